"""Resources no two cells may use at once, in this run and across runs on the machine.

A scenario whose bad releases fall back to a fixed address (127.0.0.1:8000)
must not run next to another such cell: each would see the other's server.
A named resource ("tcp:127.0.0.1:8000") is held by one cell at a time: a
thread lock inside the harness, a file lock across harness processes (the OS
drops it if a harness dies).  Several resources are taken in sorted order, so
two cells can never wait for each other.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from filelock import FileLock, Timeout

#: Upper bound on waiting for a resource another cell holds.
DEFAULT_WAIT_S = 1800.0


class ResourceLocks:
    def __init__(self, lock_dir: Path) -> None:
        self.lock_dir = lock_dir
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _thread_lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def _file_lock(self, name: str) -> FileLock:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^0-9A-Za-z.]+", "_", name)
        return FileLock(str(self.lock_dir / f"{safe}.lock"))

    @contextlib.contextmanager
    def hold(
        self,
        names: Sequence[str],
        cancelled: Callable[[], bool],
        timeout_s: float = DEFAULT_WAIT_S,
    ) -> Iterator[bool]:
        """Yields True with every resource held, False on cancellation or timeout."""
        deadline = time.monotonic() + timeout_s
        with contextlib.ExitStack() as stack:
            for name in sorted(set(names)):
                thread_lock = self._thread_lock(name)
                while not thread_lock.acquire(timeout=0.25):
                    if cancelled() or time.monotonic() > deadline:
                        yield False
                        return
                stack.callback(thread_lock.release)
                file_lock = self._file_lock(name)
                while True:
                    try:
                        file_lock.acquire(timeout=0.25)
                        break
                    except Timeout:
                        if cancelled() or time.monotonic() > deadline:
                            yield False
                            return
                stack.callback(file_lock.release)
            yield True
