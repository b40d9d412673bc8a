"""Child processes in their own session, tracked so none outlives the harness.

Every process the harness starts (installers and servers) goes through `spawn`:
it gets a new session (POSIX) or process group (Windows), is recorded in a
registry, and carries two environment markers: the harness run's id and a
token unique to this spawn.  `kill_tree` reaps the whole session, including
grandchildren that changed their process group, and every process carrying
the spawn's token, including daemons that left the session.  The markers also
let a later run (or the run's watchdog) find what a killed harness left behind,
without trusting pids alone (see `harness.procs.run_records`).  `kill_everything` is what
Ctrl-C and exit handlers call.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from harness.procs import proctable
from harness.procs.control import CONTROL

_IS_WINDOWS = sys.platform == "win32"

#: Set on every spawned process: the id of the harness run that started it.
RUN_ENV = "UVICORN_HARNESS_RUN"
#: Set on every spawned process: a token unique to that spawn (inherited by its children).
SPAWN_ENV = "UVICORN_HARNESS_SPAWN"


def new_run_id() -> str:
    """Unique per harness process: time, pid and randomness (pids are reused)."""
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Tracked:
    """A live session leader started by this run, with what identifies it for sure."""

    pid: int
    create_time: float
    token: str

    def to_json(self) -> dict[str, object]:
        return {"pid": self.pid, "create_time": self.create_time, "token": self.token}


class ProcessRegistry:
    """The live sessions started by this harness process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[int, tuple[subprocess.Popen[bytes], Tracked]] = {}
        self._counter = itertools.count(1)
        self._listeners: list[Callable[[list[Tracked]], None]] = []
        self.run_id = new_run_id()
        self.closed = False

    def new_token(self) -> str:
        with self._lock:
            return f"{self.run_id}.{next(self._counter)}"

    def add(self, process: subprocess.Popen[bytes], token: str) -> None:
        try:
            create_time = psutil.Process(process.pid).create_time()
        except psutil.Error:
            create_time = 0.0
        with self._lock:
            self._live[process.pid] = (process, Tracked(process.pid, create_time, token))
        self._notify()

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            removed = self._live.pop(process.pid, None)
        if removed is not None:
            self._notify()

    def token_of(self, pid: int) -> str | None:
        with self._lock:
            entry = self._live.get(pid)
        return entry[1].token if entry else None

    def pids(self) -> list[int]:
        with self._lock:
            return list(self._live)

    def tracked(self) -> list[Tracked]:
        with self._lock:
            return [entry[1] for entry in self._live.values()]

    def subscribe(self, listener: Callable[[list[Tracked]], None]) -> None:
        """Call `listener(live leaders)` after every change (the run record keeps them)."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[list[Tracked]], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
            live = [entry[1] for entry in self._live.values()]
        for listener in listeners:
            listener(live)

    def kill_everything(self) -> None:
        """Refuse new spawns, then kill every tracked session and every marked stray;
        on Ctrl-C and at exit."""
        with self._lock:
            self.closed = True
        self.kill_tracked()

    def kill_tracked(self) -> None:
        """Kill every tracked session and every marked stray; spawning stays allowed
        (a command may execute several batches of cells in one process)."""
        with self._lock:
            entries = list(self._live.values())
        for process, tracked in entries:
            kill_tree(process.pid, tracked.token)
            with contextlib.suppress(Exception):
                process.wait(timeout=2)
        kill_processes(marked_processes(run_id=self.run_id))


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
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start `argv` (never through a shell) in a new session, tracked and marked.

    `pass_fds`: descriptors the child inherits with the same numbers (POSIX).
    """
    if REGISTRY.closed:
        raise SpawnRefused("the harness is shutting down")
    token = REGISTRY.new_token()
    child_env = dict(env) if env is not None else dict(os.environ)
    child_env[RUN_ENV] = REGISTRY.run_id
    child_env[SPAWN_ENV] = token
    kwargs: dict[str, Any] = CONTROL.popen_kwargs()
    process = subprocess.Popen(
        list(argv),
        cwd=str(cwd) if cwd else None,
        env=child_env,
        stdout=stdout,
        stderr=stderr,
        stdin=stdin,
        pass_fds=tuple(pass_fds),
        **kwargs,
    )
    REGISTRY.add(process, token)
    return process


def wait_exit(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait up to `timeout_s` for `process` to exit (and reap it); True if it did.

    `Popen.wait(timeout)` polls with sleeps of up to 50 ms, so it notices an
    exit late; on Linux a pidfd wakes us at the exit itself.  Elsewhere, or if
    the pidfd cannot be had, it falls back to `Popen.wait`.
    """
    if process.poll() is not None:
        return True
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None and timeout_s > 0:
        try:
            fd = pidfd_open(process.pid)
        except OSError:
            fd = -1  # already reaped, or not supported by this kernel
        if fd >= 0:
            try:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                exited = bool(poller.poll(int(timeout_s * 1000) + 1))
            finally:
                os.close(fd)
            if not exited:
                return process.poll() is not None
            # It exited: reap it with `wait`, not `poll`.  `Popen.poll` answers None
            # while another thread (the loopback guard) holds the Popen's wait lock,
            # which made a prompt exit look like "still running after SIGINT".
            try:
                process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                return False
            return True
    try:
        process.wait(timeout=max(0.0, timeout_s))
    except subprocess.TimeoutExpired:
        return False
    return True


def marked_processes(run_id: str | None = None, token: str | None = None) -> list[psutil.Process]:
    """Live processes whose environment carries this run id or spawn token.

    The environment a process was started with cannot be forged by pid reuse,
    so this finds our processes even after their parent died or they left the
    session.  Processes whose environment we may not read are skipped.
    """
    if run_id is None and token is None:
        return []
    markers = [(RUN_ENV, run_id)] if run_id is not None else []
    markers += [(SPAWN_ENV, token)] if token is not None else []
    listed = proctable.pids()
    if listed is not None:
        return _as_processes(proctable.marked_pids(listed, markers))
    found = []
    me = os.getpid()
    for process in psutil.process_iter():
        if process.pid == me:
            continue
        try:
            environ = process.environ()
        except (psutil.Error, OSError):
            continue
        if (token is not None and environ.get(SPAWN_ENV) == token) or (
            run_id is not None and environ.get(RUN_ENV) == run_id
        ):
            found.append(process)
    return found


def session_members(leader_pid: int) -> list[psutil.Process]:
    """Processes in the session led by `leader_pid`, plus its known descendants."""
    listed = proctable.pids()
    if listed is not None:
        found = proctable.in_session(listed, leader_pid)
        if leader_pid in found:  # alive: its descendants may have left the session
            found |= proctable.descendants(proctable.read(listed), leader_pid)
        return _as_processes(found)
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


def _as_processes(pids: Iterable[int]) -> list[psutil.Process]:
    processes = []
    for pid in sorted(pids):
        try:
            processes.append(psutil.Process(pid))
        except psutil.Error:
            continue  # exited meanwhile
    return processes


def _members(leader_pid: int, token: str | None, deep: bool) -> list[psutil.Process]:
    listed = proctable.pids()
    if listed is not None:  # one listing of /proc for both questions
        found = {process.pid for process in session_members(leader_pid)}
        if deep and token is not None:
            found |= proctable.marked_pids(listed, [(SPAWN_ENV, token)])
        return _as_processes(found)
    members = {process.pid: process for process in session_members(leader_pid)}
    if deep and token is not None:
        for process in marked_processes(token=token):
            members.setdefault(process.pid, process)
    return list(members.values())


def signal_group(leader_pid: int, signum: int) -> bool:
    """Send `signum` to the leader's process group; False when none is left."""
    return CONTROL.signal_group(leader_pid, signum)


def signal_parent(leader_pid: int, signum: int) -> bool:
    try:
        os.kill(leader_pid, signum)
    except OSError:
        return False
    return True


def is_running(process: psutil.Process) -> bool:
    """Alive and not a zombie: a killed orphan stays a zombie until init reaps it,
    which can take a while; it holds no resources, so it counts as gone."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_processes(processes: Iterable[psutil.Process], timeout_s: float = 3.0) -> int:
    """SIGKILL each process and wait (bounded) until none runs; returns how many
    were signalled."""
    targets = list(processes)
    killed = 0
    for process in targets:
        try:
            process.kill()
            killed += 1
        except psutil.Error:
            continue
    deadline = time.monotonic() + timeout_s
    delay = 0.002
    while True:
        targets = [process for process in targets if is_running(process)]
        if not targets or time.monotonic() > deadline:
            return killed
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def kill_tree(leader_pid: int, token: str | None = None) -> int:
    """SIGKILL the whole session, descendants that left it and the spawn's marked
    processes (daemons that left the session); returns how many."""
    token = token or REGISTRY.token_of(leader_pid)
    members = _members(leader_pid, token, deep=True)
    with contextlib.suppress(OSError):
        CONTROL.kill_group(leader_pid)  # killpg SIGKILL; taskkill /T /F on Windows
    return kill_processes(members)


def describe(process: psutil.Process) -> str:
    """`pid 123 (python3.12)`: enough to identify a process in evidence."""
    try:
        return f"pid {process.pid} ({process.name()})"
    except psutil.Error:
        return f"pid {process.pid}"


def alive_members(
    leader_pid: int, token: str | None = None, deep: bool = False
) -> list[psutil.Process]:
    """Members of the session that are still running (zombies do not count).

    `deep` also looks for processes carrying the spawn's token anywhere on the
    machine (slower: it reads every process's environment).
    """
    if deep and token is None:
        token = REGISTRY.token_of(leader_pid)
    return [process for process in _members(leader_pid, token, deep) if is_running(process)]


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
    token = REGISTRY.token_of(process.pid)
    deadline = time.monotonic() + timeout_s
    try:
        try:
            output, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_tree(process.pid, token)
            output, _ = process.communicate()
            text = output.decode("utf-8", errors="replace")
            return -9, text + f"\n[harness] killed after {timeout_s:.0f}s\n"
        return process.returncode, output.decode("utf-8", errors="replace")
    finally:
        if process.poll() is None:
            kill_tree(process.pid, token)
        REGISTRY.discard(process)
