"""Output capture: bounded memory, exact line counts, prompt waiters."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

from harness.runner.output import OutputCapture


def test_bounded_head_and_tail_with_exact_counts() -> None:
    lines = [f"Started server process [{n}]\n".encode() for n in range(20_000)]
    stream = io.BytesIO(b"".join(lines) + b"the end")
    capture = OutputCapture(
        stream, [re.compile(r"Started server process \[(\d+)\]")], head_bytes=1000, tail_bytes=2000
    ).start()
    assert capture.join(10)
    watch = capture.watches[0]
    assert watch.count == 20_000
    assert len(watch.distinct) == 10_000  # capped, never unbounded
    text = capture.text()
    assert len(text) < 4000
    assert text.startswith("Started server process [0]")
    assert text.endswith("the end")
    assert "bytes of output omitted" in text


def test_short_output_is_kept_whole() -> None:
    capture = OutputCapture(io.BytesIO(b"a\r\nb\n\x1b[32mINFO\x1b[0m: c\n")).start()
    assert capture.join(5)
    assert capture.text() == "a\nb\nINFO: c\n"


def test_wait_until_wakes_on_the_line() -> None:
    read_end, write_end = io.BytesIO(), None
    del read_end, write_end
    import os

    r, w = os.pipe()
    reader = os.fdopen(r, "rb", buffering=0)
    capture = OutputCapture(reader, [re.compile("ready")]).start()
    timer = threading.Timer(0.2, lambda: os.write(w, b"server ready\n"))
    timer.start()
    assert capture.wait_until(lambda: capture.watches[0].count > 0, timeout_s=10)
    os.close(w)
    assert capture.join(5)


def test_atomic_write_respects_the_umask(tmp_path: Path) -> None:
    import os

    from harness.atomic import write_text_atomic

    target = tmp_path / "results.json"
    write_text_atomic(target, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_interleaved_writes_still_count_every_message() -> None:
    """Two processes sharing a pipe can put two messages on one line."""
    stream = io.BytesIO(b"helper (group) ready helper (daemon) ready\nhelper (x) ready\n")
    capture = OutputCapture(stream, [re.compile(r"helper \((\w+)\)")]).start()
    assert capture.join(10)
    watch = capture.watches[0]
    assert watch.count == 3
    assert watch.distinct == {"group", "daemon", "x"}


def test_block_prefilter_matches_exactly_what_lines_match() -> None:
    """Chunks are pre-filtered as blocks; counts must equal a line-by-line count."""
    text = ("noise\r\n\x1b[32mready\x1b[0m\r\r\nready-not\nx ready\n" * 500 + "ready").encode()
    patterns = [
        re.compile(r"^ready$", re.MULTILINE),
        re.compile(r"^ready$"),  # compiled without MULTILINE: still per line
        re.compile(r"\Aready"),  # \A: always matched line by line
        re.compile(r"(?<!x )ready"),
    ]
    chunks = [text[i : i + 777] for i in range(0, len(text), 777)]

    class Chunked(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read1(self, size: int = -1) -> bytes:
            return chunks.pop(0) if chunks else b""

    capture = OutputCapture(Chunked(), patterns).start()  # type: ignore[arg-type]
    assert capture.join(10)
    assert [watch.count for watch in capture.watches] == [501, 501, 1001, 1001]


def test_a_pattern_out_of_time_stops_counting_and_ends_waits() -> None:
    """A catastrophic pattern fails its watch (bounded) instead of freezing the reader;
    waiting for it returns at once and the capture says which pattern failed."""
    stream = io.BytesIO(b"".join(b"a" * 40 + b"!\n" for _ in range(50)) + b"ready\n")
    slow, ready = re.compile(r"^(a|a)+$"), re.compile("ready")
    capture = OutputCapture(stream, [slow, ready]).start()
    assert capture.join(30)
    assert capture.watches[1].count == 1  # the other watches keep working
    assert capture.watches[0].failure is not None
    assert capture.failure is not None and "/^(a|a)+$/" in capture.failure
    assert capture.wait_until(lambda: capture.watches[0].count > 0, 60) is False


def test_a_cancelled_capture_only_drains() -> None:
    """After Ctrl-C nothing is matched any more: the pipe is drained at once,
    however slow the scenario's patterns would be."""
    cancel = threading.Event()
    cancel.set()
    stream = io.BytesIO(b"".join(b"a" * 40 + b"!\n" for _ in range(50)))
    capture = OutputCapture(stream, [re.compile(r"^(a|a)+$")] * 12, cancel=cancel).start()
    assert capture.join(1.0)
    assert all(watch.count == 0 and watch.failure is None for watch in capture.watches)
    assert capture.text().count("!") == 50
