"""Child processes in their own session, tracked so none outlives the harness.

Every process the harness starts (installers and servers) goes through `spawn`:
it gets a new session (POSIX) or process group (Windows), is recorded in a
registry, and `kill_tree` reaps the whole session, including grandchildren
that changed their process group.  `kill_everything` is what Ctrl-C and exit
handlers call.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import psutil

_IS_WINDOWS = sys.platform == "win32"


class ProcessRegistry:
    """The live sessions started by this harness process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[int, subprocess.Popen[bytes]] = {}
        self.closed = False

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._live[process.pid] = process

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._live.pop(process.pid, None)

    def pids(self) -> list[int]:
        with self._lock:
            return list(self._live)

    def kill_everything(self) -> None:
        """Kill every tracked session; used on Ctrl-C and at interpreter exit."""
        with self._lock:
            self.closed = True
            processes = list(self._live.values())
        for process in processes:
            kill_tree(process.pid)
            with contextlib.suppress(Exception):
                process.wait(timeout=2)


REGISTRY = ProcessRegistry()


class SpawnRefused(RuntimeError):
    """The registry is closed: the harness is shutting down and starts nothing new."""


def spawn(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.STDOUT,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start `argv` (never through a shell) in a new session, tracked by the registry."""
    if REGISTRY.closed:
        raise SpawnRefused("the harness is shutting down")
    kwargs: dict[str, Any] = {}
    if _IS_WINDOWS:
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
    process = subprocess.Popen(
        list(argv),
        cwd=str(cwd) if cwd else None,
        env=dict(env) if env is not None else None,
        stdout=stdout,
        stderr=stderr,
        stdin=stdin,
        **kwargs,
    )
    REGISTRY.add(process)
    return process


def session_members(leader_pid: int) -> list[psutil.Process]:
    """Processes in the session led by `leader_pid`, plus its known descendants."""
    members: dict[int, psutil.Process] = {}
    try:
        leader = psutil.Process(leader_pid)
        members[leader.pid] = leader
        for child in leader.children(recursive=True):
            members[child.pid] = child
    except psutil.Error:
        pass
    if not _IS_WINDOWS:
        for process in psutil.process_iter():
            try:
                if process.pid not in members and os.getsid(process.pid) == leader_pid:
                    members[process.pid] = process
            except (OSError, psutil.Error):
                continue
    return list(members.values())


def signal_group(leader_pid: int, signum: int) -> bool:
    """Send `signum` to the leader's process group; False when none is left."""
    if _IS_WINDOWS:
        try:
            os.kill(leader_pid, signum)
        except OSError:
            return False
        return True
    try:
        os.killpg(leader_pid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_parent(leader_pid: int, signum: int) -> bool:
    try:
        os.kill(leader_pid, signum)
    except OSError:
        return False
    return True


def kill_tree(leader_pid: int) -> int:
    """SIGKILL the whole session (and descendants that left it); returns how many."""
    members = session_members(leader_pid)
    if not _IS_WINDOWS:
        with contextlib.suppress(OSError):
            os.killpg(leader_pid, signal.SIGKILL)
    killed = 0
    for process in members:
        try:
            process.kill()
            killed += 1
        except psutil.Error:
            continue
    psutil.wait_procs(members, timeout=3)
    return killed


def alive_members(leader_pid: int) -> list[psutil.Process]:
    """Members of the session that are still running (zombies do not count)."""
    alive = []
    for process in session_members(leader_pid):
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.Error:
            continue
    return alive


def run_captured(
    argv: Sequence[str],
    *,
    timeout_s: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Run a helper command (an installer) to completion, bounded, output merged.

    On timeout the whole session is killed and the return code is -9.
    """
    process = spawn(argv, cwd=cwd, env=env)
    deadline = time.monotonic() + timeout_s
    try:
        try:
            output, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            output, _ = process.communicate()
            text = output.decode("utf-8", errors="replace")
            return -9, text + f"\n[harness] killed after {timeout_s:.0f}s\n"
        return process.returncode, output.decode("utf-8", errors="replace")
    finally:
        if process.poll() is None:
            kill_tree(process.pid)
        REGISTRY.discard(process)
