"""The Wine prefix (created once per cache) and the session around a run's Wine cells.

Creating a prefix takes 10-15 s and 700 MB, so it is built once per cache
directory: as `prefix.tmp` under a lock, then renamed into place (a prefix
stores no absolute path of its own, so the rename is safe).

A `WineSession` keeps one wineserver warm for all Wine cells of a run:

* `wineserver -p<N>` and `wine wineboot` run with their output on /dev/null
  before the first start.  The first Windows process of a server session
  starts Wine's service processes, and those inherit its standard streams: if
  that were a cell's server, its output pipe would stay open long after it
  exited.  The server then lives until N s after the last Windows process
  (`wineboot` is one), so the warm-up is repeated only when that could have
  run out (0.15-0.6 s when it is).  `-p<N>` also bounds any leak: if the
  harness itself is killed, the server and its services exit N s after the
  last Windows process;
* `wineserver -k` kills every process of the prefix, so it must never run
  while another harness run is using the same prefix.  Runs hold a shared lock
  on the prefix while they use it; the one that can take it exclusively (no
  one else is inside) clears leftovers on entry and stops the server on exit.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from filelock import FileLock, Timeout

from harness.errors import WineError
from harness.procs.registry import REGISTRY
from harness.targets.wine.tools import WineTools, tool_environment

#: Seconds the wineserver lingers after the last Windows process (bounds any leak).
PERSIST_S = 60
#: A warm-up is trusted for PERSIST_S minus this margin.
WARM_MARGIN_S = 15
PREFIX_TIMEOUT_S = 300.0
WARM_UP_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 30.0
SHARED_LOCK_WAIT_S = 120.0


def prefix_path(cache_dir: Path) -> Path:
    return cache_dir / "wine" / "prefix"


def prefix_ready(prefix: Path) -> bool:
    return (prefix / "system.reg").is_file()


def _run_logged(argv: Sequence[str], prefix: Path, log: IO[bytes], timeout_s: float) -> None:
    """Run one set-up command with its output in the log; WineError if it fails."""
    try:
        completed = subprocess.run(
            list(argv),
            env=tool_environment(prefix),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise WineError(f"`{' '.join(argv)}` did not finish within {timeout_s:.0f}s") from None
    except OSError as exc:
        raise WineError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    if completed.returncode != 0:
        raise WineError(f"`{' '.join(argv)}` failed with exit code {completed.returncode}")


def stop_server(tools: WineTools, prefix: Path) -> None:
    """`wineserver -k` then `-w`: every process of the prefix is gone when this returns."""
    env = tool_environment(prefix)
    for flag in ("-k", "-w"):
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            subprocess.run(
                [tools.wineserver, flag],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=SERVER_STOP_TIMEOUT_S,
                check=False,
            )


def ensure_prefix(
    tools: WineTools, prefix: Path, notify: Callable[[str], None] | None = None
) -> float:
    """Create the prefix unless it exists; returns the seconds spent creating it."""
    if prefix_ready(prefix):
        return 0.0
    prefix.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(prefix.parent / "prefix.lock"))
    try:
        lock.acquire(timeout=PREFIX_TIMEOUT_S * 2)
    except Timeout:
        raise WineError(f"another run kept creating {prefix} for too long") from None
    try:
        return _create_prefix(tools, prefix, notify)
    finally:
        lock.release()


def _create_prefix(tools: WineTools, prefix: Path, notify: Callable[[str], None] | None) -> float:
    """Build the prefix as `<prefix>.tmp` and rename it into place (under the lock)."""
    if prefix_ready(prefix):
        return 0.0
    if notify is not None:
        notify(f"creating the Wine prefix {prefix} (once per cache, about 15 s)")
    started = time.monotonic()
    staging = prefix.with_name(prefix.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    log_path = prefix.parent / "prefix-setup.log"
    try:
        with log_path.open("wb") as log:
            _run_logged([tools.wine, "wineboot", "-i"], staging, log, PREFIX_TIMEOUT_S)
            # Wine 8 reports Windows 7 unless told otherwise, and CPython 3.9 and
            # newer do not support Windows 7: make sys.getwindowsversion() say 10.
            _run_logged([tools.wine, "winecfg", "/v", "win10"], staging, log, PREFIX_TIMEOUT_S)
            _run_logged([tools.wineserver, "-w"], staging, log, PREFIX_TIMEOUT_S)
        if not prefix_ready(staging):
            raise WineError(f"wineboot left no registry in {staging}")
    except BaseException as exc:
        stop_server(tools, staging)
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, WineError):
            raise WineError(f"{exc} (its output is in {log_path})") from None
        raise
    staging.rename(prefix)
    return time.monotonic() - started


class WineSession:
    """A warm wineserver for one run's Wine cells; nothing of Wine outlives it."""

    def __init__(
        self,
        tools: WineTools,
        prefix: Path,
        notify: Callable[[str], None] | None = None,
        persist_s: int = PERSIST_S,
    ) -> None:
        self.tools = tools
        self.prefix = prefix
        self.notify = notify
        self.persist_s = persist_s
        self._lock_file: IO[str] | None = None
        self._warm_lock = threading.Lock()
        self._warm_until = 0.0
        self.warm_ups = 0

    def __enter__(self) -> WineSession:
        ensure_prefix(self.tools, self.prefix, self.notify)
        lock_file = (self.prefix.parent / "session.lock").open("a+", encoding="utf-8")
        self._lock_file = lock_file
        try:
            if _try_lock(lock_file, fcntl.LOCK_EX):
                stop_server(self.tools, self.prefix)  # leftovers of a run that was killed
            _lock_within(lock_file, fcntl.LOCK_SH, SHARED_LOCK_WAIT_S)
            if not self.warm_up():
                raise WineError(f"Wine does not start in {self.prefix} (`wine wineboot` failed)")
        except BaseException:
            self._leave()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        lock_file, self._lock_file = self._lock_file, None
        self._warm_until = 0.0
        if lock_file is None:
            return
        try:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
            if _try_lock(lock_file, fcntl.LOCK_EX):
                stop_server(self.tools, self.prefix)  # the last run out turns off the lights
        finally:
            lock_file.close()

    def warm_up(self) -> bool:
        """Start (or keep) the wineserver and Wine's services, off our pipes; True if OK.

        Skipped while an earlier warm-up still guarantees a live server: it lives
        `persist_s` after the last Windows process, and only this session (the
        last one out) ever stops it early.
        """
        env = tool_environment(self.prefix)
        with self._warm_lock:
            if time.monotonic() < self._warm_until:
                return True
            if REGISTRY.closed:  # the harness is shutting down: start nothing new
                return False
            # Exit code 2 means "already running", which is what we want.
            _run_quiet([self.tools.wineserver, f"-p{self.persist_s}"], env, WARM_UP_TIMEOUT_S)
            ok = _run_quiet([self.tools.wine, "wineboot"], env, WARM_UP_TIMEOUT_S) == 0
            if ok:
                self.warm_ups += 1
                self._warm_until = time.monotonic() + self.persist_s - WARM_MARGIN_S
            return ok


def _run_quiet(argv: Sequence[str], env: dict[str, str], timeout_s: float) -> int:
    """A helper with its output on /dev/null; -9 when it had to be killed.

    Deliberately not `processes.spawn`: the wineserver and the services this
    starts belong to the prefix, not to this run.  They must not carry the
    run's markers, or the end of this run (or its watchdog) would kill them
    under another run that shares the prefix.  Their lifetime is the session's
    business, and `-p<N>` bounds it.
    """
    try:
        completed = subprocess.run(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -9
    except OSError:
        return -1
    return completed.returncode


def _try_lock(lock_file: IO[str], mode: int) -> bool:
    try:
        fcntl.flock(lock_file, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_within(lock_file: IO[str], mode: int, timeout_s: float) -> None:
    """Take the lock, waiting at most `timeout_s` (another run may be cleaning up)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while not _try_lock(lock_file, mode):
        if time.monotonic() > deadline:
            raise WineError(f"another run kept the Wine prefix locked for {timeout_s:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
