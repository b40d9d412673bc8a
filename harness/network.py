"""Loopback ports and sockets: free-port allocation, connect checks, ownership."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable

import psutil


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
    5 ms so readiness is seen as soon as the server accepts.
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
        delay = min(delay * 2, 0.1)


def listening_ports(pids: Iterable[int]) -> set[int]:
    """TCP ports on which any of `pids` listens (empty when the OS will not say)."""
    ports: set[int] = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except (psutil.Error, AttributeError):
            try:
                connections = psutil.Process(pid).connections(kind="tcp")  # psutil < 6
            except psutil.Error:
                continue
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN and conn.laddr:
                ports.add(int(conn.laddr[1]))
    return ports
