"""Raw bytes on a socket: pipelined, malformed or hostile input, checked on the wire.

httpx normalises what it sends and parses what it gets; some bugs live exactly
there (a second pipelined request, a header that splits a response).  A raw
exchange writes the scenario's bytes as they are and keeps every byte read,
decoded as Latin-1 so each byte is one character for the regexes.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from harness import patterns
from harness.runner.endpoints import Address
from harness.runner.observation import Check
from harness.scenario.checks import RawExchange

_PREVIEW = 300


@dataclass(frozen=True)
class RawResult:
    received: bytes
    closed: bool
    elapsed_s: float
    error: str | None = None

    def text(self) -> str:
        return self.received.decode("latin-1")

    def preview(self) -> str:
        shown = repr(self.received[:_PREVIEW])
        if len(self.received) > _PREVIEW:
            shown += f"... ({len(self.received)} bytes)"
        return shown


def exchange(target: Address, raw: RawExchange, cancel: threading.Event) -> RawResult:
    """Write, then read until EOF, the `until` pattern, `max_bytes` or `read_s`."""
    started = time.monotonic()
    received = bytearray()
    try:
        sock = target.connect(timeout_s=min(5.0, raw.read_s))
    except OSError as exc:
        return RawResult(b"", False, 0.0, f"connect failed: {exc}")
    with sock:
        try:
            for index, chunk in enumerate(raw.send):
                if index and raw.gap_s and cancel.wait(raw.gap_s):
                    elapsed = time.monotonic() - started
                    return RawResult(bytes(received), False, elapsed, "interrupted")
                sock.sendall(chunk)
            if raw.half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            return RawResult(b"", False, time.monotonic() - started, f"send failed: {exc}")
        deadline = time.monotonic() + raw.read_s
        until_budget = patterns.Budget()
        while len(received) < raw.max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or cancel.is_set():
                break
            sock.settimeout(min(remaining, 0.25))
            try:
                chunk = sock.recv(min(65536, raw.max_bytes - len(received)))
            except TimeoutError:
                continue
            except OSError:  # reset by the server: as good as closed
                return RawResult(bytes(received), True, time.monotonic() - started)
            if not chunk:
                return RawResult(bytes(received), True, time.monotonic() - started)
            received += chunk
            if raw.until is not None and patterns.search(
                raw.until, received.decode("latin-1"), f"what {raw.id} received", until_budget
            ):
                break
    return RawResult(bytes(received), False, time.monotonic() - started)


def raw_check(target: Address, raw: RawExchange, cancel: threading.Event) -> Check:
    result = exchange(target, raw, cancel)
    if result.error is not None:
        return Check(raw.id, False, f"{result.error} after {result.elapsed_s:.2f}s")
    text = result.text()
    problems = []
    for match in raw.matches:
        count = patterns.count(match.pattern, text, f"what {raw.id} received")
        if (match.min_count is not None and count < match.min_count) or (
            match.max_count is not None and count > match.max_count
        ):
            problems.append(f"{match.describe()}: seen {count}x")
    if raw.closed is not None and result.closed != raw.closed:
        problems.append(
            "the server closed the connection"
            if result.closed
            else f"the connection was still open after {raw.read_s:g}s"
        )
    state = "closed by the server" if result.closed else "open"
    summary = f"{len(result.received)} bytes in {result.elapsed_s:.2f}s, {state}"
    detail = "; ".join(problems) if problems else summary
    if problems:
        detail += f" (got {result.preview()} in {result.elapsed_s:.2f}s, {state})"
    return Check(raw.id, not problems, detail)
