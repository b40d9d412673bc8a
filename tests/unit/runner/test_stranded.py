"""Workers that all died under a parent that keeps running, told from the process table.

Real processes: a parent that starts children with multiprocessing (spawn, so
the resource tracker runs too) and never reaps them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from harness.runner.stranded import SETTLE_S, StrandedWatch, dead_workers

PARENT = textwrap.dedent(
    """
    import multiprocessing, sys, time

    def worker(fail):
        if fail:
            raise RuntimeError("worker cannot start")
        time.sleep(60)

    if __name__ == "__main__":
        context = multiprocessing.get_context("spawn")
        plan = sys.argv[1]  # one letter per worker: d dies, l lives
        workers = [context.Process(target=worker, args=(c == "d",)) for c in plan]
        for w in workers:
            w.start()
        print("started", flush=True)
        time.sleep(60)  # like uvicorn 0.11's supervisor: never joins its workers
    """
)


def start_parent(tmp_path: Path, plan: str) -> subprocess.Popen[str]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    return subprocess.Popen(
        [sys.executable, str(script), plan],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


@pytest.fixture
def parents() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def zombie_children(pid: int) -> int:
    return sum(c.status() == psutil.STATUS_ZOMBIE for c in psutil.Process(pid).children())


@pytest.mark.parametrize("traceback_seen", [True, False])
def test_all_workers_dead_is_seen_and_the_tracker_does_not_count(
    tmp_path: Path, parents: list[subprocess.Popen[str]], traceback_seen: bool
) -> None:
    parent = start_parent(tmp_path, "dd")
    parents.append(parent)
    wait_for(lambda: zombie_children(parent.pid) == 2)
    assert dead_workers(parent.pid) == 2  # the resource tracker, alive, is not a worker
    watch = StrandedWatch(parent.pid)
    assert not watch.stranded(traceback_seen)  # the state must last first
    time.sleep(SETTLE_S + 0.1)
    # Without a traceback in the output the wait goes on, however long it lasts.
    assert watch.stranded(traceback_seen) is traceback_seen
    assert (watch.reason is not None) is traceback_seen
    if traceback_seen:
        assert "2 worker process(es)" in str(watch.reason)


def test_a_live_worker_keeps_the_wait_going(
    tmp_path: Path, parents: list[subprocess.Popen[str]]
) -> None:
    parent = start_parent(tmp_path, "dl")
    parents.append(parent)
    wait_for(lambda: zombie_children(parent.pid) == 1)  # one died, the other lives
    assert dead_workers(parent.pid) == 0
    watch = StrandedWatch(parent.pid)
    watch.stranded(traceback_seen=True)
    time.sleep(SETTLE_S + 0.1)
    assert not watch.stranded(traceback_seen=True)


def test_a_gone_leader_or_one_without_children_is_not_stranded() -> None:
    assert dead_workers(2**22 + 12345) == 0  # no such process
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as lone:
        try:
            assert dead_workers(lone.pid) == 0
        finally:
            lone.kill()
