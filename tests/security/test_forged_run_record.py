"""Item 6: a forged run record in `<cache>/runs/` deletes nothing and kills nothing
that is not the harness's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.procs.registry import RUN_ENV
from harness.procs.run_records import recover_stale_runs, scratch_root
from tests.conftest import ROOT

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process: no marker, its own session, alive for the test."""
    process = subprocess.Popen(SLEEP, start_new_session=True)
    yield process
    process.kill()
    process.wait()


def _forge(runs: Path, name: str, **record: object) -> Path:
    runs.mkdir(parents=True, exist_ok=True)
    fields: dict[str, object] = {
        "run_id": name,
        "pid": 2**22 + 7,  # no such process: the run looks dead
        "create_time": 0.0,
        "started_at": "2026-01-01T00:00:00Z",
        "scratch": "",
        "leaders": [],
    }
    fields.update(record)
    path = runs / f"{name}.json"
    path.write_text(json.dumps(fields))
    return path


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "data.txt").write_text("keep me")
    return victim


def test_a_forged_record_deletes_no_folder_and_kills_no_stranger(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    victim = _victim(tmp_path)
    leader = {"pid": stranger.pid, "create_time": psutil.Process(stranger.pid).create_time(),
              "token": "forged.1"}  # fmt: skip
    path = _forge(tmp_path / "runs", "forged", scratch=str(victim), leaders=[leader])
    messages = recover_stale_runs(tmp_path / "runs")
    assert (victim / "data.txt").read_text() == "keep me"
    time.sleep(0.1)
    assert stranger.poll() is None, "an unrelated process was killed"
    assert messages and messages[0].endswith("none of its processes was still running")
    assert not path.exists()


def test_the_watchdog_trusts_a_forged_record_no_more(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    """The watchdog reaps when its pipe closes; the record it reads can be forged too."""
    victim = _victim(tmp_path)
    leader = {"pid": stranger.pid, "create_time": psutil.Process(stranger.pid).create_time(),
              "token": "forged.1"}  # fmt: skip
    path = _forge(tmp_path / "runs", "forged", scratch=str(victim), leaders=[leader])
    watchdog = subprocess.run(
        [sys.executable, "-m", "harness.procs.watchdog", str(path)],
        cwd=ROOT, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert watchdog.returncode == 0
    assert (victim / "data.txt").exists()
    assert stranger.poll() is None


@pytest.mark.parametrize("run_id", ["../../victim", "", "/abs", "a/b", ".."])
def test_a_run_id_that_is_a_path_is_an_unreadable_record(tmp_path: Path, run_id: str) -> None:
    path = _forge(tmp_path / "runs", "odd", run_id=run_id)
    assert recover_stale_runs(tmp_path / "runs") == ["removed an unreadable run record odd.json"]
    assert not path.exists()


def test_only_the_runs_own_scratch_folder_is_removed(tmp_path: Path) -> None:
    own = scratch_root() / "run-forged-own"
    own.mkdir(parents=True, exist_ok=True)
    victim = _victim(tmp_path)
    _forge(tmp_path / "runs", "forged-own", scratch=str(victim))
    recover_stale_runs(tmp_path / "runs")
    assert not own.exists() and victim.exists()


def test_the_runs_marked_processes_are_still_reaped(tmp_path: Path) -> None:
    marked = subprocess.Popen(
        SLEEP, env={**os.environ, RUN_ENV: "dead-run"}, start_new_session=True
    )
    try:
        leader = {"pid": marked.pid, "create_time": psutil.Process(marked.pid).create_time(),
                  "token": "dead-run.1"}  # fmt: skip
        _forge(tmp_path / "runs", "dead-run", leaders=[leader])
        messages = recover_stale_runs(tmp_path / "runs")
        assert messages[0].endswith("stopped 1 process(es) it left running")
        assert marked.wait(timeout=10) is not None
    finally:
        marked.kill()
        marked.wait()


def test_a_live_run_with_a_forged_start_time_is_left_alone(tmp_path: Path) -> None:
    """A record naming this live process's run id, with a wrong start time: the run id
    (time, pid) still shows the run is alive, so its processes are not touched."""
    me = psutil.Process()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(me.create_time() + 1))
    run_id = f"{stamp}-{me.pid}-abcdef"
    marked = subprocess.Popen(SLEEP, env={**os.environ, RUN_ENV: run_id}, start_new_session=True)
    try:
        path = _forge(tmp_path / "runs", run_id, pid=me.pid, create_time=1.0)
        assert recover_stale_runs(tmp_path / "runs") == []
        assert marked.poll() is None and path.exists()
    finally:
        marked.kill()
        marked.wait()


def test_a_fifo_in_the_runs_folder_does_not_hang_recovery(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    os.mkfifo(runs / "stuck.json")
    assert recover_stale_runs(runs) == ["removed an unreadable run record stuck.json"]
