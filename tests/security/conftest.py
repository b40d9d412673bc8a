"""The security suite (issue 14): other people's files and servers, tried as an attacker would.

Every test here reproduces one finding the way it was reported (or a variation
of it) and fails on the harness as it was before the fix.  The cheap ones call
the CLI in-process or as a subprocess; the end-to-end ones (`e2e` marker) run
hostile apps on a real uvicorn release, all in one harness run where they can
(`hostile_run`), so the suite stays a few seconds of real servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.envs.interpreters import InterpreterFinder
from tests.conftest import ROOT

APPS = Path(__file__).resolve().parent / "apps"
#: One modern release for every hostile app: they test the harness, not uvicorn.
VERSION = "0.30.6"
#: Characters that must never reach a terminal from a file or a server.
CONTROL = tuple(chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)))


@dataclass
class Cli:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def harness(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 300,
    cwd: Path = ROOT,
) -> Cli:
    """`python -m harness ARGS` as CI runs it (no terminal, CI set)."""
    completed = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "CI": "true", "COLUMNS": "200", **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    return Cli(completed.returncode, completed.stdout, completed.stderr)


def one_error_line(cli: Cli) -> str:
    """The one line a bad input must produce on stderr (no traceback)."""
    lines = cli.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in cli.output, cli.output
    return lines[0]


def cell(**changes: Any) -> dict[str, Any]:
    """A valid results cell (what `run` writes), with `changes` applied."""
    record: dict[str, Any] = {
        "scenario": "hostile",
        "package": "uvicorn",
        "version": VERSION,
        "python": "3.12",
        "platform": "linux",
        "outcome": "new-failure",
        "expected": False,
        "reason": "ready: exited with code 1",
        "signature": None,
        "fingerprint": "RuntimeError: boom",
        "duration_s": 0.5,
        "exit_code": 1,
        "output_tail": "Traceback (most recent call last):\nRuntimeError: boom\n",
        "checks": [{"name": "ready", "ok": False, "detail": "exited"}],
    }
    record.update(changes)
    return record


def results(cells: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """A valid results file (schema 1) with `changes` applied at the top level."""
    data: dict[str, Any] = {
        "schema": 1,
        "harness_version": "0.1.0",
        "run_id": "20260101T000000-1-abcdef",
        "complete": True,
        "command": ["python", "-m", "harness", "run"],
        "notes": [],
        "claims": [],
        "releases": {"uvicorn": ["0.30.5", VERSION]},
        "scenarios": {},
        "cells": [cell()] if cells is None else cells,
    }
    data.update(changes)
    return data


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def scenario_text(
    scenario_id: str, app: str, body: str, command: str | None = None, title: str = "hostile"
) -> str:
    """A scenario file for `app` (a module in `apps/`), with `body` appended."""
    command = command or '["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]'
    head = f"""
    id = "{scenario_id}"
    title = "{title}"

    [server]
    app = "{app}"
    command = {command}
    """
    return textwrap.dedent(head) + textwrap.dedent(body)


def write_scenarios(folder: Path, scenarios: dict[str, str]) -> Path:
    """Scenario files named `<key>.toml` beside a copy of the hostile apps."""
    folder.mkdir(parents=True, exist_ok=True)
    for app in APPS.glob("*.py"):
        (folder / app.name).write_text(app.read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in scenarios.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def security_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The environment cache of this suite's end-to-end tests (one release, one Python)."""
    kept = os.environ.get("HARNESS_TEST_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("security-cache")


@pytest.fixture(scope="session")
def python_minor() -> str:
    """3.12 when present (the release supports it), else the newest CPython >= 3.8."""
    found = [i for i in InterpreterFinder().discovered() if i.version.release >= (3, 8)]
    if not found:
        pytest.fail("no CPython >= 3.8 found on PATH or in pyenv: the e2e tests need one")
    minors = [i.minor for i in found]
    return "3.12" if "3.12" in minors else minors[-1]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, filled up: a real full disk (needs root, as on this project's CI)."""
    mount = tmp_path / "full-disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace')}")
    try:
        with (mount / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


RAW_GET = '"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"'


def hostile_scenarios(heartbeat: Path) -> dict[str, str]:
    """One scenario per hostile behaviour; all run in one harness run."""
    http_ok = '\n[[expect.http]]\npath = "/"\nstatus = 200\n'
    return {
        # Item 2: binds 0.0.0.0 itself, after start-up.
        "public-bind": scenario_text(
            "public-bind",
            "public_bind:app",
            f'env = {{HEARTBEAT = "{heartbeat.as_posix()}"}}\n'
            '\n[[expect.http]]\npath = "/"\nstatus = 200\nwait_s = 2\n',
        ),
        # Item 10: an exception message full of terminal escapes.
        "escapes": scenario_text("escapes", "escapes:app", http_ok),
        # Item 3 exactly as reported: `^(a+)+$` against "a" * 40 + "!".
        "issue-regex": scenario_text(
            "issue-regex",
            "backtrack:app",
            http_ok + "\n[limits]\nlog_s = 1\n"
            "\n[[expect.log]]\npattern = '^(a+)+$'\n"
            "\n[[signature]]\nid = 'as-reported'\npattern = '^(a+)+$'\n",
        ),
        # Item 3 with a pattern `regex` cannot shortcut, in each place a pattern goes.
        "slow-signature": scenario_text(
            "slow-signature",
            "backtrack:app",
            '\n[[expect.http]]\npath = "/"\nstatus = 500\n'
            "\n[[signature]]\nid = 'slow'\npattern = '^(a|a)+$'\n",
        ),
        "slow-ready": scenario_text(
            "slow-ready", "backtrack:app", "ready = '^(a|a)+$'\n" + http_ok
        ),
        "slow-log": scenario_text(
            "slow-log", "backtrack:app", http_ok + "\n[[expect.log]]\npattern = '^(a|a)+$'\n"
        ),
        "slow-raw": scenario_text(
            "slow-raw",
            "backtrack:app",
            f"\n[[expect.raw]]\nsend = {RAW_GET}\nclosed = true\n"
            "\n[[expect.raw.match]]\npattern = '^(a|a)+$'\n",
        ),
    }


@dataclass
class HostileRun:
    cli: Cli
    seconds: float
    results: dict[str, Any]
    outputs: dict[str, Path]
    heartbeat: Path

    def cell(self, scenario_id: str) -> dict[str, Any]:
        found = [c for c in self.results["cells"] if c["scenario"] == scenario_id]
        assert len(found) == 1, self.cli.output
        return found[0]


@pytest.fixture(scope="session")
def hostile_run(
    tmp_path_factory: pytest.TempPathFactory, security_cache: Path, python_minor: str
) -> HostileRun:
    """Every hostile app of the suite, one real run (one release, one Python)."""
    import time

    root = tmp_path_factory.mktemp("hostile")
    heartbeat = root / "heartbeat"
    folder = write_scenarios(root / "scenarios", hostile_scenarios(heartbeat))
    outputs = {name: root / "out" / name for name in ("results.json", "index.html", "summary.md")}
    outputs["junit.xml"] = root / "out" / "junit.xml"
    started = time.monotonic()
    cli = harness(
        ["run", "--scenarios-dir", str(folder), "--versions", VERSION, "--python", python_minor,
         "--cache-dir", str(security_cache), "--json", str(outputs["results.json"]),
         "--html", str(outputs["index.html"]), "--markdown", str(outputs["summary.md"]),
         "--junit", str(outputs["junit.xml"])],
        env={"GITHUB_STEP_SUMMARY": ""},
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert outputs["results.json"].exists(), cli.output
    data = json.loads(outputs["results.json"].read_text(encoding="utf-8"))
    return HostileRun(cli, seconds, data, outputs, heartbeat)
