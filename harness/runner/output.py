"""Capture a server's output with bounded memory and line patterns counted live.

A server may print anything, including hundreds of megabytes.  We keep the
first `head_bytes` and the last `tail_bytes` for evidence and signature
matching, and evaluate registered line patterns on every line as it arrives,
so counts ("two workers started") stay exact however much is printed.
Waiters are woken on every chunk: readiness needs no polling.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, TypeVar

import regex

from harness import patterns

_T = TypeVar("_T")

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
HEAD_BYTES = 64 * 1024
TAIL_BYTES = 256 * 1024
MAX_LINE = 64 * 1024
MAX_DISTINCT = 10_000


#: Pattern features that mean something else in a block of lines than in one
#: line; patterns using them skip the block pre-filter.
_LINE_ONLY = re.compile(r"\\[AZ]|\(\?<[=!]")
_TRAILING_CR = re.compile(r"\r+$", re.MULTILINE)


@dataclass
class LineWatch:
    """Live statistics of one pattern over the output's lines.

    Matching is bounded (`harness.patterns`): a pattern that spends its budget
    stops counting and says so in `failure`; the cell then ends as an error.
    """

    pattern: re.Pattern[str]
    count: int = 0
    distinct: set[str] = field(default_factory=set)
    first: dict[str, str] | None = None
    #: The same pattern over a block of lines: no match there, none in any line.
    block: re.Pattern[str] | None = field(init=False, default=None)
    budget: patterns.Budget = field(default_factory=patterns.Budget)
    #: Why the pattern stopped being matched (it ran out of time), else None.
    failure: str | None = None

    def __post_init__(self) -> None:
        if not _LINE_ONLY.search(self.pattern.pattern):
            self.block = re.compile(self.pattern.pattern, self.pattern.flags | re.MULTILINE)

    def may_match(self, lines: str) -> bool:
        """False only when no line of `lines` ("\n"-separated) can match (or the
        pattern has failed)."""
        if self.failure is not None:
            return False
        if self.block is None:
            return True
        return self._bounded(patterns.search, self.block, lines) is not None

    def scan(self, line: str) -> list[regex.Match[str]]:
        """Every match in one line (bounded); `record` them.  Every match, not just
        the first: processes sharing a pipe interleave their writes, so two
        messages can end up on one line."""
        return self._bounded(patterns.finditer, self.pattern, line) or []

    def record(self, matches: Sequence[regex.Match[str]]) -> None:
        """Count one line's matches (called with the capture locked)."""
        nonempty = [match for match in matches if match.group(0)]
        for match in nonempty or matches[:1]:  # an empty match counts once per line
            self.count += 1
            if self.first is None:
                self.first = {k: v for k, v in match.groupdict().items() if v is not None}
            if match.re.groups and len(self.distinct) < MAX_DISTINCT:
                value = match.group(1)
                if value is not None:
                    self.distinct.add(value)

    def _bounded(self, match: Callable[..., _T], pattern: re.Pattern[str], text: str) -> _T | None:
        """`match(pattern, text)` on the watch's budget; None once it has failed."""
        if self.failure is not None:
            return None
        try:
            return match(pattern, text, "the server's output", self.budget)
        except patterns.PatternTimeout as exc:
            self.failure = str(exc)
            return None


class OutputCapture:
    """Reads a byte stream on a thread; keeps head + tail and feeds line watches."""

    def __init__(
        self,
        stream: IO[bytes],
        patterns: Sequence[re.Pattern[str]] = (),
        head_bytes: int = HEAD_BYTES,
        tail_bytes: int = TAIL_BYTES,
        cancel: threading.Event | None = None,
    ) -> None:
        """`cancel`: once set (Ctrl-C), lines are no longer matched, only drained."""
        self._stream = stream
        self.watches = [LineWatch(pattern) for pattern in patterns]
        self._head = bytearray()
        self._tail = bytearray()
        self._head_bytes = head_bytes
        self._tail_bytes = tail_bytes
        self._partial = bytearray()
        self.total_bytes = 0
        self.eof = False
        self._cond = threading.Condition()
        self._cancel = cancel or threading.Event()
        self._thread = threading.Thread(target=self._read_loop, name="output-capture", daemon=True)

    def start(self) -> OutputCapture:
        self._thread.start()
        return self

    def _read_loop(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            while True:
                chunk = read(65536)
                if not chunk:
                    break
                self._ingest(chunk)
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                rest = bytes(self._partial)
                self._partial.clear()
            if rest:
                self._feed_lines(rest)
            with self._cond:
                self.eof = True
                self._cond.notify_all()

    def _ingest(self, chunk: bytes) -> None:
        lines = b""
        with self._cond:
            self.total_bytes += len(chunk)
            if len(self._head) < self._head_bytes:
                self._head += chunk[: self._head_bytes - len(self._head)]
            self._tail += chunk
            if len(self._tail) > 2 * self._tail_bytes:
                del self._tail[: len(self._tail) - self._tail_bytes]
            if self.watches:
                self._partial += chunk
                end = self._partial.rfind(b"\n")
                if end >= 0:
                    lines = bytes(self._partial[:end])
                    del self._partial[: end + 1]
                if len(self._partial) > MAX_LINE:
                    del self._partial[: len(self._partial) - MAX_LINE]
            self._cond.notify_all()
        if lines:
            self._feed_lines(lines)

    def _feed_lines(self, raw: bytes) -> None:
        """Complete lines, "\n"-separated: cleaned as one block, and only split
        into lines for the watches that can match somewhere in it (a flood of
        unrelated output costs a few regex scans per chunk, not one per line).

        Patterns are matched without the lock (a slow one must not hold up the
        waiters), watch after watch, and each watch's counts are updated under it."""
        text = _ANSI.sub(b"", raw).decode("utf-8", errors="replace")
        text = _TRAILING_CR.sub("", text)
        lines: list[str] | None = None
        for watch in self.watches:
            if self._cancel.is_set():
                return
            found: list[list[regex.Match[str]]] = []
            if watch.may_match(text):
                lines = lines if lines is not None else text.split("\n")
                found = [watch.scan(line[:MAX_LINE]) for line in lines]
            with self._cond:
                for matches in found:
                    watch.record(matches)
                self._cond.notify_all()

    @property
    def failure(self) -> str | None:
        """Why a watched pattern stopped being matched (see `LineWatch.failure`)."""
        return next((w.failure for w in self.watches if w.failure is not None), None)

    def wait_until(
        self, predicate: Callable[[], bool], timeout_s: float, stop: Callable[[], bool] = bool
    ) -> bool:
        """Wait until `predicate()` holds (True), EOF or `stop()` or the deadline (False),
        or until a watched pattern fails (its counts would never move again).

        `predicate` runs with the capture locked, so it sees consistent counts.
        `stop` is polled at least every 100 ms (e.g. process exit, cancellation).
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if self.eof or remaining <= 0 or stop() or self.failure is not None:
                    return predicate()
                self._cond.wait(min(remaining, 0.1))

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def text(self) -> str:
        """Head and tail of the output (with a marker where bytes were dropped)."""
        with self._cond:
            total = self.total_bytes
            head = bytes(self._head)
            tail = bytes(self._tail[-self._tail_bytes :])
        if total <= len(head) + len(tail):
            data = (head + tail[-(total - len(head)) :]) if total > len(head) else head
        else:
            omitted = total - len(head) - len(tail)
            marker = f"\n[... {omitted} bytes of output omitted ...]\n".encode()
            data = head + marker + tail
        return _ANSI.sub(b"", data).decode("utf-8", errors="replace").replace("\r\n", "\n")
