"""Loopback ports and sockets: free-port allocation, connect checks, ownership."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import psutil

from harness.listening import proc_listening_sockets

#: How servers say their port is taken (Linux, macOS, Windows, uvicorn's wording).
ADDRESS_IN_USE = re.compile(
    r"address already in use|\[Errno (?:98|48)\]|WinError 10048|EADDRINUSE", re.IGNORECASE
)


class PortAllocator:
    """Hands out free loopback ports, never the same one twice in a run."""

    def __init__(self) -> None:
        self._given: set[int] = set()
        self._lock = threading.Lock()

    def allocate(self, host: str = "127.0.0.1") -> int:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with self._lock:
            for _ in range(50):
                with socket.socket(family, socket.SOCK_STREAM) as probe:
                    probe.bind((host, 0))
                    port = int(probe.getsockname()[1])
                if port not in self._given:
                    self._given.add(port)
                    return port
        raise OSError("could not find a free loopback port")


def can_connect(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_for_connect(
    host: str, port: int, timeout_s: float, give_up: Callable[[float], bool]
) -> bool:
    """Connect until it works or `timeout_s` passes.

    Between attempts we call `give_up(delay)`, which waits up to `delay` for the
    server process to exit and returns True if it did; the backoff starts at
    5 ms and stays under 25 ms, so readiness is seen as soon as the server
    accepts (a refused loopback connect costs microseconds).
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if can_connect(host, port, timeout_s=min(1.0, max(0.05, remaining))):
            return True
        if give_up(min(delay, max(0.0, deadline - time.monotonic()))):
            return can_connect(host, port, timeout_s=0.2)
        delay = min(delay * 2, 0.025)


def listening_sockets(pids: Iterable[int]) -> tuple[set[tuple[str, int]], bool]:
    """(address, port) pairs on which any of `pids` listens, and whether the OS
    let us look at all (macOS hides other processes' sockets from non-root).
    Linux asks the kernel directly (`harness.listening`), elsewhere psutil."""
    pids = list(pids)
    found = proc_listening_sockets(pids)
    return found if found is not None else _psutil_listening_sockets(pids)


def _psutil_listening_sockets(pids: Iterable[int]) -> tuple[set[tuple[str, int]], bool]:
    sockets: set[tuple[str, int]] = set()
    visible = False
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except (psutil.Error, AttributeError):
            try:
                connections = psutil.Process(pid).connections(kind="tcp")  # psutil < 6
            except psutil.Error:
                continue
        visible = True
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN and conn.laddr:
                sockets.add((str(conn.laddr[0]), int(conn.laddr[1])))
    return sockets, visible


def listening_ports(pids: Iterable[int]) -> set[int]:
    """TCP ports on which any of `pids` listens (empty when the OS will not say)."""
    return {port for _, port in listening_sockets(pids)[0]}


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address == "localhost"


def port_holder(host: str, port: int) -> str | None:
    """None when `host:port` can be bound (as a server would, with SO_REUSEADDR);
    otherwise who holds it, as precisely as the OS tells us."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return None
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                return f"nobody we can see (binding it fails: {exc.strerror or exc})"
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        connections = []
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and int(conn.laddr[1]) == port:
            if conn.pid is None:
                return "another process (the OS does not say which)"
            try:
                process = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({process.name()})"
            except psutil.Error:
                return f"pid {conn.pid}"
    return "another process (the OS does not say which)"


class FixedPortLocks:
    """Serialise cells that need the same fixed port, in this run and across runs.

    Within the harness a lock per port; across harness processes on the machine a
    file lock per port (released by the OS if a harness dies).
    """

    def __init__(self, lock_dir: Path) -> None:
        self.lock_dir = lock_dir
        self._locks: dict[tuple[str, int], threading.Lock] = {}
        self._guard = threading.Lock()

    def _thread_lock(self, key: tuple[str, int]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextlib.contextmanager
    def hold(
        self, host: str, port: int, timeout_s: float, cancelled: Callable[[], bool]
    ) -> Iterator[bool]:
        """Yields True once the port is ours, False on timeout or cancellation."""
        deadline = time.monotonic() + timeout_s
        thread_lock = self._thread_lock((host, port))
        while not thread_lock.acquire(timeout=0.25):
            if cancelled() or time.monotonic() > deadline:
                yield False
                return
        try:
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            safe_host = re.sub(r"[^0-9A-Za-z.]+", "_", host)
            from filelock import FileLock, Timeout  # only scenarios with a fixed port

            file_lock = FileLock(str(self.lock_dir / f"{safe_host}-{port}.lock"))
            while True:
                try:
                    file_lock.acquire(timeout=0.25)
                    break
                except Timeout:
                    if cancelled() or time.monotonic() > deadline:
                        yield False
                        return
            try:
                yield True
            finally:
                file_lock.release()
        finally:
            thread_lock.release()
