"""Loopback ports and sockets: free-port allocation, listening sockets, ownership."""

from __future__ import annotations

import errno
import re
import socket
import sys
import threading
from collections.abc import Iterable

import psutil

from harness.runner.sockets import proc_listening_sockets
from harness.scenario.hosts import is_loopback_host

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


def listening_sockets(pids: Iterable[int]) -> tuple[set[tuple[str, int]], bool]:
    """(address, port) pairs on which any of `pids` listens, and whether the OS
    let us look at all (macOS hides other processes' sockets from non-root).
    Linux asks the kernel directly (`harness.runner.sockets`), elsewhere psutil."""
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


def is_loopback(address: str) -> bool:
    """An address a socket listens on is loopback (IPv4-mapped forms included)."""
    return is_loopback_host(address)


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
