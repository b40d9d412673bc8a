"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

A process killed mid-write leaves its temporary file behind (`.NAME.*.tmp`);
the next write of the same file removes such leftovers once they are old
enough that no live writer can still own them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

#: A temporary file this old belongs to a writer that died, not a slow one.
STALE_TEMP_S = 600.0


def _default_file_mode() -> int:
    """What `open()` would create: 0o666 minus the umask (mkstemp uses 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_file_mode()


def write_text_atomic(path: Path, text: str, durable: bool = True) -> None:
    """Write `text` to `path` through a temporary file in the same directory.

    `durable` also flushes the data to disk before the rename (survives a power
    loss, not just a crash of the process); small bookkeeping files skip it.
    """
    write_chunks_atomic(path, (text,), durable)


def write_chunks_atomic(path: Path, chunks: Iterable[str], durable: bool = True) -> None:
    """`write_text_atomic` for text made piece by piece (a large report is never
    held whole in memory); the file appears only once every piece is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _remove_stale_temps(path)


def _remove_stale_temps(path: Path) -> None:
    cutoff = time.time() - STALE_TEMP_S
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
