"""Where a server listens, set up by the harness before it starts, and how to reach it.

* `tcp`: loopback host and a free port the harness picked (or 0: the server
  picks, and announces it);
* `uds`: a Unix socket path in the cell's scratch folder;
* `fd`: a listening loopback socket the harness opens and hands over, as the
  server's standard input or as an inherited descriptor.  The harness closes
  its own copy once the server has started, so only the server holds it.

An `Address` is the resolved address probes connect to.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.runner.ports import PortAllocator
from harness.scenario.model import ServerSpec

UDS_NAME = "server.sock"


@dataclass(frozen=True)
class Address:
    """An address probes can connect to: TCP host:port or a Unix socket path."""

    host: str
    port: int = 0
    uds: str | None = None

    def describe(self) -> str:
        if self.uds is not None:
            return f"unix:{self.uds}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def connect(self, timeout_s: float) -> socket.socket:
        """A connected socket (the caller closes it); raises OSError."""
        if self.uds is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout_s)
                sock.connect(self.uds)
            except OSError:
                sock.close()
                raise
            return sock
        return socket.create_connection((self.host, self.port), timeout=timeout_s)

    def can_connect(self, timeout_s: float = 0.5) -> bool:
        try:
            with self.connect(timeout_s):
                return True
        except OSError:
            return False

    def base_url(self) -> str:
        if self.uds is not None:
            return "http://localhost"
        netloc = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return f"http://{netloc}"

    def host_header(self) -> str:
        return "localhost" if self.uds is not None else self.base_url()[len("http://") :]


@dataclass
class Endpoint:
    """The listening side of one cell, owned by the harness until the server has it."""

    kind: str
    host: str
    port: int = 0
    uds: Path | None = None
    child_fd: int | None = None
    _socket: socket.socket | None = field(default=None, repr=False)

    @classmethod
    def open(cls, spec: ServerSpec, ports: PortAllocator, workdir: Path) -> Endpoint:
        kind = spec.listen.kind
        if kind == "uds":
            return cls(kind, spec.host, uds=workdir / UDS_NAME)
        if kind == "fd":
            family = socket.AF_INET6 if ":" in spec.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.bind((spec.host, 0))
                sock.listen(128)
            except OSError:
                sock.close()
                raise
            port = int(sock.getsockname()[1])
            child_fd = 0 if spec.listen.fd_as == "stdin" else sock.fileno()
            os.set_inheritable(sock.fileno(), True)
            return cls(kind, spec.host, port, child_fd=child_fd, _socket=sock)
        port = ports.allocate(spec.host) if spec.port is None else spec.port
        return cls(kind, spec.host, port)

    def placeholders(self) -> dict[str, str]:
        values = {"host": self.host}
        if self.kind in ("tcp", "fd"):
            values["port"] = str(self.port)
        if self.uds is not None:
            values["uds"] = str(self.uds)
        if self.child_fd is not None:
            values["fd"] = str(self.child_fd)
        return values

    def spawn_options(self) -> dict[str, Any]:
        """Extra `spawn` arguments: the socket as stdin, or as an inherited descriptor."""
        if self._socket is None:
            return {}
        if self.child_fd == 0:
            return {"stdin": self._socket.fileno()}
        return {"pass_fds": (self._socket.fileno(),)}

    def release(self) -> None:
        """Drop the harness's copy of a passed socket (the server keeps its own)."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None

    def target(
        self, announced_host: str | None = None, announced_port: int | None = None
    ) -> Address:
        if self.uds is not None:
            return Address(self.host, uds=str(self.uds))
        host = announced_host or self.host
        if host in ("0.0.0.0", "::", "localhost"):
            host = self.host
        port = announced_port if announced_port is not None else self.port
        return Address(host, port)


def wait_until_accepting(
    target: Address, timeout_s: float, give_up: Callable[[float], bool]
) -> bool:
    """Connect until it works or `timeout_s` passes (TCP or Unix socket).

    Between attempts `give_up(delay)` waits up to `delay` for the server to
    exit and returns True if it did (or decides it never will serve).  The
    backoff starts at 5 ms and stays under 25 ms, so readiness is seen as soon as
    the server accepts (a refused loopback connect costs microseconds).
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if target.can_connect(timeout_s=min(1.0, max(0.05, remaining))):
            return True
        if give_up(min(delay, max(0.0, deadline - time.monotonic()))):
            return target.can_connect(timeout_s=0.2)
        delay = min(delay * 2, 0.025)
