"""The two seed scenarios, run for real: venvs, servers, HTTP, classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import broken_envs, processes_using, run_cli

pytestmark = pytest.mark.e2e

PORT_ZERO = ["run", "--scenario", "port-zero-startup", "--versions", "0.13.3,0.13.4,0.14.0"]


def _assert_port_zero(cells: dict[str, dict[str, object]], python: str) -> None:
    bad = cells[f"0.13.4/py{python}"]
    assert bad["outcome"] == "known-failure", bad
    assert bad["signature"] == "port0-getpeername-enotconn"
    assert bad["expected"] is True
    assert "Errno 107" in str(bad["output_tail"])
    for good in ("0.13.3", "0.14.0"):
        cell = cells[f"{good}/py{python}"]
        assert cell["outcome"] == "pass", cell
        assert cell["exit_code"] == 0


def test_port_zero_on_the_oldest_python(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    run = run_cli([*PORT_ZERO, "--python", oldest], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    _assert_port_zero(run.cells(), oldest)
    assert run.results is not None
    verdicts = {c["signature"]: c["verdict"] for c in run.results["claims"]}
    assert verdicts["port0-getpeername-enotconn"] == "refined"
    assert verdicts["port0-winerror-10057"] == "unverifiable here"
    assert "known" in run.stdout and "0.13.4" in run.stdout

    again = run_cli([*PORT_ZERO, "--python", oldest], cache_dir, tmp_path)
    assert again.code == 0
    assert all(cell["env_reused"] for cell in again.cells().values())


def test_port_zero_with_virtualenv_backend(
    cache_dir: Path, tmp_path: Path, oldest: str, newest: str
) -> None:
    """virtualenv + pip: seeded by ensurepip on old Pythons, pip held below 24.1."""
    args = ["run", "--scenario", "port-zero-startup", "--versions", "0.13.4,0.14.0",
            "--backend", "virtualenv", "--python", oldest, "--python", "3.11"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    cells = run.cells()
    for python in (oldest, "3.11"):
        assert cells[f"0.13.4/py{python}"]["outcome"] == "known-failure"
        assert cells[f"0.14.0/py{python}"]["outcome"] == "pass"
        assert cells[f"0.14.0/py{python}"]["backend"] == "virtualenv"
        assert "pip" in cells[f"0.14.0/py{python}"]["resolved"]


def test_two_workers_leave_nothing_behind(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    args = ["run", "--scenario", "two-worker-startup",
            "--versions", "0.11.8,0.12.1,0.12.2,0.14.0", "--python", oldest]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    cells = run.cells()
    for version in ("0.12.1", "0.12.2", "0.14.0"):
        cell = cells[f"{version}/py{oldest}"]
        assert cell["outcome"] == "pass", cell
        assert "Started server process" in cell["output_tail"]
        checks = {check["name"]: check for check in cell["checks"]}
        assert checks["log: two distinct worker processes started"]["ok"]
        assert checks["stopped"]["ok"]
    # 0.11.8 with today's uvloop: both workers die, the parent keeps running and
    # never serves: a definite failure with the evidence, seen as soon as the
    # workers are dead instead of after the scenario's 30 s readiness bound.
    old = cells[f"0.11.8/py{oldest}"]
    assert old["outcome"] == "new-failure", old
    assert "There is no current event loop" in old["fingerprint"]
    assert "worker process(es) exited with a traceback" in old["reason"]
    assert old["duration_s"] < 25  # the ready bound is 30 s
    assert run.code == 1  # an unexpected cell
    assert run.results is not None
    claim = run.results["claims"][0]
    assert claim["signature"] == "workers-winerror-10022"
    assert claim["verdict"] == "unverifiable here"
    assert not processes_using(cache_dir)
    assert not broken_envs(cache_dir)
