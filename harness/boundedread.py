"""Read a file someone else gave us: a regular file, of bounded size, or nothing.

Scenario folders, results files and requirements files come from pull
requests.  `open()` on a FIFO named `x.toml` blocks forever, a symlink to
`/dev/zero` reads until memory runs out, and a 10 GB "results file" does
the same more slowly.  Every such input is read here: the file is opened
without blocking, must be a regular file, and may not be larger than the
limit its kind allows (see SECURITY.md for the limits).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MIB = 1024 * 1024
#: Limits per kind of input, in bytes.
SCENARIO_BYTES = 1 * MIB
RESULTS_BYTES = 128 * MIB
DEPENDENCY_BYTES = 16 * MIB


class FileRefused(ValueError):
    """The path is not a regular file, or it is larger than its kind may be."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes; raises `FileRefused` (not a regular file, over `limit`)
    or `OSError` (cannot be opened or read)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            raise FileRefused(f"is {kind}, not a regular file" if kind[0] == "a" else kind)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileRefused(f"is larger than {limit // MIB} MiB")
    return data


def read_text(path: Path, limit: int) -> str:
    """`read_bytes` decoded as UTF-8 (raises `UnicodeDecodeError` when it is not)."""
    return read_bytes(path, limit).decode("utf-8")
