"""End-to-end helpers: run the real CLI against real uvicorn releases.

The environment cache is shared by the whole test session (and can be kept
across sessions with HARNESS_TEST_CACHE), so each release is built once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.envs.interpreters import Interpreter, InterpreterFinder
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    results: dict[str, Any] | None

    def cells(self) -> dict[str, dict[str, Any]]:
        assert self.results is not None, self.stderr
        return {f"{c['version']}/py{c['python']}": c for c in self.results["cells"]}


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept = os.environ.get("HARNESS_TEST_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("harness-cache")


@pytest.fixture(scope="session")
def interpreters() -> list[Interpreter]:
    found = [i for i in InterpreterFinder().discovered() if i.version.release >= (3, 8)]
    if not found:
        pytest.fail("no CPython >= 3.8 found on PATH or in pyenv: the e2e tests need one")
    return found


@pytest.fixture(scope="session")
def oldest(interpreters: list[Interpreter]) -> str:
    return interpreters[0].minor


@pytest.fixture(scope="session")
def newest(interpreters: list[Interpreter]) -> str:
    return interpreters[-1].minor


def run_cli(
    args: Sequence[str],
    cache_dir: Path,
    tmp_path: Path,
    timeout_s: float = 600,
    env: dict[str, str] | None = None,
) -> CliRun:
    results = tmp_path / "results.json"
    argv = [sys.executable, "-m", "harness", *args]
    if args and args[0] in ("run", "bisect"):
        argv += ["--cache-dir", str(cache_dir), "--json", str(results)]
    completed = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s,
        env={**os.environ, "CI": "true", "COLUMNS": "100", **(env or {})},
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    data = json.loads(results.read_text()) if results.exists() else None
    return CliRun(completed.returncode, completed.stdout, completed.stderr, data)


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes whose command line mentions `path` (our servers run from the cache)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(str(path) in part for part in process.info["cmdline"] or ()):
                found.append(process)
        except psutil.Error:
            continue
    return found


def broken_envs(cache_dir: Path) -> list[Path]:
    """Environment folders without a completion marker (must never exist after a run)."""
    envs = cache_dir / "envs"
    if not envs.is_dir():
        return []
    return [p for p in envs.iterdir() if p.is_dir() and not (p / ".harness-env.json").exists()]
