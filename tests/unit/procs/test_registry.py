"""Spawned processes carry the run's markers, so even a daemon that left the
session is found and killed with its cell."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from harness.procs.registry import (
    REGISTRY,
    RUN_ENV,
    SPAWN_ENV,
    alive_members,
    kill_tree,
    marked_processes,
    spawn,
)

DAEMONISE = (
    "import os, sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        print(os.getpid(), flush=True)\n"
    "        time.sleep(60)\n"
    "    os._exit(0)\n"
    "time.sleep(60)\n"
)


def test_a_daemon_that_left_the_session_is_killed_with_its_spawn() -> None:
    process = spawn([sys.executable, "-c", DAEMONISE], env=dict(os.environ))
    try:
        assert process.stdout is not None
        daemon = psutil.Process(int(process.stdout.readline()))
        assert os.getsid(daemon.pid) != process.pid  # it left the server's session
        token = REGISTRY.token_of(process.pid)
        assert token is not None and token.startswith(REGISTRY.run_id)
        assert daemon.environ()[SPAWN_ENV] == token
        assert daemon.environ()[RUN_ENV] == REGISTRY.run_id
        assert daemon.pid not in [p.pid for p in alive_members(process.pid)]
        assert daemon.pid in [p.pid for p in alive_members(process.pid, deep=True)]
        assert daemon.pid in [p.pid for p in marked_processes(run_id=REGISTRY.run_id)]
        kill_tree(process.pid)
        process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while daemon.is_running() and daemon.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the daemon survived"
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        REGISTRY.discard(process)


def test_markers_do_not_leak_into_the_harness_environment() -> None:
    assert RUN_ENV not in os.environ and SPAWN_ENV not in os.environ
    child = subprocess.run(
        [sys.executable, "-c", f"import os; print(os.environ.get('{RUN_ENV}'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == "None"  # only what `spawn` starts is marked


def test_wait_exit_sees_an_exit_while_another_thread_holds_the_wait_lock() -> None:
    """A thread polling the same Popen (the loopback guard did) holds its wait lock
    for a moment; `Popen.poll` then answers None.  The exit must still be seen."""
    import subprocess
    import sys
    import threading

    from harness.procs.registry import wait_exit

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    lock = process._waitpid_lock  # CPython's lock around waitpid (what poll() skips on)
    lock.acquire()
    releaser = threading.Timer(0.8, lock.release)
    releaser.start()
    try:
        assert wait_exit(process, 5.0), "the exit was missed while the lock was held"
        assert process.returncode == 0
    finally:
        releaser.join()
