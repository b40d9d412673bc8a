"""The runtime loopback guard, with real processes (harness.runner.loopback_guard)."""

from __future__ import annotations

import subprocess
import sys
import time

from harness.procs.registry import REGISTRY, spawn
from harness.runner.loopback_guard import LoopbackGuard

LISTENER = (
    "import socket, sys, time\n"
    "time.sleep(0.3)\n"
    "s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()\n"
    "print('listening', flush=True)\n"
    "time.sleep(30)\n"
)


def _watched(host: str) -> tuple[subprocess.Popen[bytes], LoopbackGuard]:
    guard = LoopbackGuard()
    process = spawn([sys.executable, "-c", LISTENER, host])
    guard.watch(process, REGISTRY.token_of(process.pid))
    return process, guard


def test_a_public_listener_gets_the_server_killed() -> None:
    process, guard = _watched("0.0.0.0")
    try:
        assert process.wait(timeout=20) != 0
        assert guard.reason is not None and "beyond loopback on 0.0.0.0:" in guard.reason
    finally:
        guard.stop()
        process.kill()
        REGISTRY.discard(process)


def test_a_loopback_listener_is_left_alone() -> None:
    process, guard = _watched("127.0.0.1")
    try:
        assert process.stdout is not None and process.stdout.readline() == b"listening\n"
        time.sleep(0.3)  # many looks of the guard
        assert process.poll() is None and guard.reason is None
    finally:
        guard.stop()
        process.kill()
        process.wait()
        REGISTRY.discard(process)
