"""Run records and the watchdog, with real (sleeping) processes standing in for servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.procs.registry import RUN_ENV
from harness.procs.run_records import REAPED, RunRecord, recover_stale_runs
from tests.conftest import ROOT

SLEEPER = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print('up', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; whatever survives the test is killed."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        for child in (
            psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
        ):
            child.kill()
        if process.poll() is None:
            process.kill()
        process.wait()


def start_marked(run_id: str, started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A session leader with a child, both marked as processes of `run_id`."""
    process = subprocess.Popen(
        [sys.executable, "-c", SLEEPER],
        env={**os.environ, RUN_ENV: run_id},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    started.append(process)
    assert process.stdout is not None
    assert process.stdout.readline() == b"up\n"
    return process


def write_record(runs: Path, run_id: str, pid: int, create_time: float, leaders: list[int]) -> Path:
    runs.mkdir(parents=True, exist_ok=True)
    record = RunRecord(
        run_id=run_id,
        pid=pid,
        create_time=create_time,
        started_at="2026-01-01T00:00:00Z",
        scratch="",
        leaders=[
            {"pid": p, "create_time": psutil.Process(p).create_time(), "token": f"{run_id}.1"}
            for p in leaders
        ],
    )
    path = runs / f"{run_id}.json"
    path.write_text(record.to_json())
    return path


def family(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    leader = psutil.Process(process.pid)
    return [leader, *leader.children(recursive=True)]


def running(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.Error:
            continue
    return alive


def test_a_dead_runs_processes_are_reaped_and_reported(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    server = start_marked("dead-run", started)
    members = family(server)
    path = write_record(tmp_path / "runs", "dead-run", 2**22 + 1, 0.0, [server.pid])
    messages = recover_stale_runs(tmp_path / "runs")
    assert len(messages) == 1
    assert messages[0].startswith("run dead-run (pid 4194305, started 2026-01-01T00:00:00Z)")
    assert messages[0].endswith("ended without cleaning up; stopped 2 process(es) it left running")
    assert not running(members)
    assert not path.exists()


def test_a_live_run_is_left_alone(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    server = start_marked("live-run", started)
    me = psutil.Process()
    path = write_record(tmp_path / "runs", "live-run", me.pid, me.create_time(), [server.pid])
    assert recover_stale_runs(tmp_path / "runs") == []
    assert len(running(family(server))) == 2
    assert path.exists()


def test_a_reused_pid_is_not_killed(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    """A leader's pid now belongs to another process (other start time, no marker)."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started.append(stranger)
    path = write_record(tmp_path / "runs", "old-run", 2**22 + 1, 0.0, [stranger.pid])
    data = json.loads(path.read_text())
    data["leaders"][0]["create_time"] -= 1000  # the recorded leader started long before
    path.write_text(json.dumps(data))
    messages = recover_stale_runs(tmp_path / "runs")
    assert messages[0].endswith("none of its processes was still running")
    assert stranger.poll() is None


def test_unreadable_and_reaped_records_are_reported(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "broken.json").write_text("{not json")
    reaped = RunRecord("gone", 1234, 0.0, "2026-01-01T00:00:00Z", "", state=REAPED, reaped=3)
    (runs / "gone.json").write_text(reaped.to_json())
    messages = recover_stale_runs(runs)
    assert messages == [
        "removed an unreadable run record broken.json",
        "run gone (pid 1234) was killed; its watchdog stopped 3 process(es) it had left running",
    ]
    assert not list(runs.iterdir())


def start_watchdog(record: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.procs.watchdog", str(record)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
    )


def test_watchdog_reaps_when_the_pipe_closes_without_done(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    server = start_marked("killed-run", started)
    members = family(server)
    record = write_record(tmp_path / "runs", "killed-run", 2**22 + 1, 0.0, [server.pid])
    watchdog = start_watchdog(record)
    assert watchdog.stdin is not None
    watchdog.stdin.close()  # what the kernel does when the harness dies
    assert watchdog.wait(timeout=30) == 0
    assert not running(members)
    data = json.loads(record.read_text())
    assert (data["state"], data["reaped"]) == (REAPED, 2)


def test_watchdog_leaves_a_finished_run_alone(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    server = start_marked("finished-run", started)
    record = write_record(tmp_path / "runs", "finished-run", 2**22 + 1, 0.0, [server.pid])
    watchdog = start_watchdog(record)
    assert watchdog.stdin is not None
    watchdog.stdin.write(b"done\n")
    watchdog.stdin.close()
    assert watchdog.wait(timeout=30) == 0
    assert len(running(family(server))) == 2
    assert json.loads(record.read_text())["state"] == "running"
