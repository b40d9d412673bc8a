"""The checks a scenario declares: HTTP, raw-socket and WebSocket probes, and
expectations on the log, the exit, listening sockets, paths and imports, and
comparisons between HTTP responses.

Plain frozen dataclasses like the rest of `harness.scenario.model`; the
runner's probes (`harness.runner.probes`) carry them out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HttpProbe:
    """One HTTP request the harness sends once the server is ready, and its checks."""

    method: str = "GET"
    path: str = "/"
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = 200
    body: str | None = None
    body_contains: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()
    id: str | None = None
    #: Probes naming the same session share one keep-alive connection pool.
    session: str | None = None
    #: Seconds to wait before sending (e.g. to outlast a keep-alive timeout).
    wait_s: float = 0.0
    #: True: must reuse the session's previous connection; False: must not.
    same_connection: bool | None = None
    #: Keys the JSON body must contain with these values (a subset match).
    json: Mapping[str, Any] | None = None
    #: Send a body of this many bytes ("x" repeated) instead of `request_body`:
    #: large enough to make the server pause reading (flow control).
    request_body_size: int | None = None

    def body_bytes(self) -> bytes | None:
        """The request body to send, if any."""
        if self.request_body_size is not None:
            return b"x" * self.request_body_size
        return self.request_body.encode() if self.request_body is not None else None

    def describe(self) -> str:
        return f"{self.method} {self.path}"

    def check_name(self) -> str:
        return self.id or f"http {self.describe()}"


@dataclass(frozen=True)
class RawMatch:
    """A regex over the raw bytes received (decoded as Latin-1), with a count."""

    pattern: re.Pattern[str]
    min_count: int | None = None
    max_count: int | None = None

    def describe(self) -> str:
        bounds = []
        if self.min_count is not None:
            bounds.append(f">={self.min_count}")
        if self.max_count is not None:
            bounds.append(f"<={self.max_count}")
        return f"/{self.pattern.pattern}/ {' '.join(bounds)}".strip()


@dataclass(frozen=True)
class RawExchange:
    """Bytes written to a fresh connection as they are (pipelining, malformed or
    hostile input), then everything read back until EOF, `until`, or `read_s`."""

    id: str
    send: tuple[bytes, ...]
    gap_s: float = 0.0
    half_close: bool = False
    read_s: float = 5.0
    max_bytes: int = 1024 * 1024
    until: re.Pattern[str] | None = None
    matches: tuple[RawMatch, ...] = ()
    #: True: the server must close the connection within `read_s`; False: must not.
    closed: bool | None = None


@dataclass(frozen=True)
class WebSocketProbe:
    """A WebSocket opening handshake (with subprotocols), optionally one echo."""

    id: str
    path: str = "/"
    subprotocols: tuple[str, ...] = ()
    request_headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 101
    #: The subprotocol the server must select ("" = none selected).
    subprotocol: str | None = None
    send: str | None = None
    receive: str | None = None


@dataclass(frozen=True)
class ListeningExpectation:
    """Whether anything accepts TCP connections at a loopback address while the
    server runs (e.g. "nothing fell back to the default 127.0.0.1:8000")."""

    id: str
    host: str
    port: int
    accepting: bool

    @property
    def resource(self) -> str:
        return f"tcp:{self.host}:{self.port}"


@dataclass(frozen=True)
class PathExpectation:
    """Whether a path exists while the server runs, or after it exited."""

    id: str
    path: str
    exists: bool
    when: str = "running"  # or "exited"
    kind: str = "any"  # "socket", "file", "dir" or "any"


@dataclass(frozen=True)
class ImportExpectation:
    """How often the app module was imported, in which processes.

    The reference apps append one line per import to `$HARNESS_IMPORT_LOG`;
    `process` is "parent" (the process the harness started), "others" (any
    process it spawned) or "all".
    """

    id: str
    process: str = "all"
    min_count: int | None = None
    max_count: int | None = None


@dataclass(frozen=True)
class LogExpectation:
    """A check over the server's output, evaluated with a bounded wait."""

    pattern: re.Pattern[str]
    min_count: int | None = None
    max_count: int | None = None
    distinct_min: int | None = None
    description: str = ""
    id: str | None = None

    def describe(self) -> str:
        if self.description:
            return self.description
        return f"log /{self.pattern.pattern}/"

    def check_name(self) -> str:
        return self.id or f"log: {self.describe()}"


@dataclass(frozen=True)
class ExitExpectation:
    """How the server must stop: signal sent, deadline and acceptable exit codes.

    `signal = "none"`: nothing is sent; the server must exit by itself within
    `within_s` (counted from its start when nothing needs it running).
    """

    signal: str = "SIGINT"
    target: str = "group"
    within_s: float = 10.0
    codes: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class CompareExpectation:
    """A value compared across HTTP responses (e.g. the `date` header of two
    requests on one keep-alive connection): all equal, or all different.

    `value` is `status`, `body`, `header:NAME` or `json:a.b` (a dotted path
    into the JSON body).
    """

    id: str
    responses: tuple[str, ...]
    value: str
    equal: bool

    def describe(self) -> str:
        relation = "the same" if self.equal else "all different"
        return f"{self.value} of {', '.join(self.responses)}: {relation}"
