"""Bad input: one clear line, the documented exit code, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCENARIOS
from tests.e2e.conftest import broken_envs, processes_using, run_cli

pytestmark = pytest.mark.e2e


def test_malformed_scenario_file(cache_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    text = (SCENARIOS / "port-zero-startup.toml").read_text()
    (folder / "broken.toml").write_text(text.replace("status = 200", 'status = "OK"'))
    run = run_cli(["run", "--scenarios-dir", str(folder)], cache_dir, tmp_path)
    assert run.code == 3
    message = run.stderr.strip()
    assert "broken.toml" in message and "expect.http[0].status" in message
    assert "Traceback" not in run.stderr


def test_unknown_version(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    args = ["run", "--scenario", "port-zero-startup", "--versions", "0.13.99", "--python", oldest]
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 3
    assert "unknown version 0.13.99 of uvicorn" in run.stderr


def test_unknown_scenario(cache_dir: Path, tmp_path: Path) -> None:
    run = run_cli(["run", "--scenario", "nope"], cache_dir, tmp_path)
    assert run.code == 3 and "unknown scenario 'nope'" in run.stderr


def test_missing_interpreter_skips_its_cells(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    args = ["run", "--scenario", "port-zero-startup", "--versions", "0.14.0",
            "--python", oldest, "--python", "3.99"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    skipped = run.cells()["0.14.0/py3.99"]
    assert skipped["outcome"] == "skip"
    assert "Python 3.99 not found" in skipped["reason"]
    only_missing = run_cli([*args[:5], "--python", "3.99"], cache_dir, tmp_path)
    assert only_missing.code == 3
    assert "nothing ran" in only_missing.stderr


def test_unreachable_index(tmp_path: Path, oldest: str) -> None:
    env = {
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "UV_INDEX_URL": "http://127.0.0.1:9/simple",
    }
    args = ["run", "--scenario", "port-zero-startup", "--versions", "0.14.0", "--python", oldest]
    run = run_cli(args, tmp_path / "fresh-cache", tmp_path, env=env, timeout_s=120)
    assert run.code == 2
    assert "127.0.0.1:9/simple is unreachable" in run.stderr
    assert "Traceback" not in run.stderr


def test_ctrl_c_mid_run(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    """SIGINT while servers run: exit 130 fast, partial results, no process left."""
    results = tmp_path / "partial.json"
    argv = [sys.executable, "-m", "harness", "run", "--scenario", "two-worker-startup",
            "--versions", "0.11.8,0.12.1,0.12.2", "--python", oldest,
            "--cache-dir", str(cache_dir), "--json", str(results)]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CI": "true"}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    seen = []
    # Wait until a cell has finished, so servers of the others are mid-flight.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if line.startswith("[1/"):
            break
    else:
        process.kill()
        pytest.fail("no cell finished: " + "".join(seen))
    interrupted_at = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    took = time.monotonic() - interrupted_at
    assert process.returncode == 130, "".join(seen) + process.stdout.read()
    assert took < 10
    data = json.loads(results.read_text())
    assert data["complete"] is False
    assert len(data["cells"]) >= 1
    assert not processes_using(cache_dir)
    assert not broken_envs(cache_dir)
