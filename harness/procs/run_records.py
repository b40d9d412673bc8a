"""A run's record on disk, its watchdog, and recovery from runs that were killed.

Servers run in their own sessions, so they would outlive a harness killed with
SIGKILL.  Two independent mechanisms make sure they do not:

* the watchdog: a small process (`harness.procs.watchdog`) started with each run,
  in its own session, holding the read end of a pipe from the harness.  When
  the harness dies, however it dies, the pipe closes; unless the harness said
  "done" first, the watchdog kills everything the run started and notes it;
* the run record, `<cache>/runs/<run-id>.json`: the harness's pid and start
  time and its live server sessions, rewritten atomically on every change.  A
  later run on the same cache finds records of runs that are gone, kills what
  they left (if the watchdog could not) and says so.

Processes are identified by the environment markers `spawn` sets (run id and
spawn token), never by a pid alone.  A run record is a file anyone who can
write the cache can forge, so recovery trusts it for nothing it could abuse:
it kills only processes that carry the record's run marker, removes only the
run's own folder under the machine's scratch root (never the path it names),
and leaves alone a run whose harness process is still alive, judged by the
pid and time written in the run id as well as by the record.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

import harness
from harness.atomic import write_text_atomic
from harness.boundedread import MIB, read_text
from harness.clock import utc_now
from harness.errors import InfrastructureError
from harness.procs.registry import (
    REGISTRY,
    RUN_ENV,
    Tracked,
    is_running,
    kill_processes,
    marked_processes,
    session_members,
)

RUNS_DIR = "runs"
#: What `harness.procs.registry.new_run_id` makes: UTC time, pid, randomness.
_RUN_ID = re.compile(r"^(?P<time>\d{8}T\d{6})-(?P<pid>\d{1,10})-[0-9a-f]{6}$")
#: Any run id a record may carry: a plain file name (it names a folder).
_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RUNNING = "running"
REAPED = "reaped-by-watchdog"
#: Passes over the process table when reaping: a process forked while we scan
#: (by a server of the dead run) is found by the next pass.
_REAP_PASSES = 4


def scratch_root() -> Path:
    """Where cells keep their working folders (machine-local, not the cache)."""
    return Path(tempfile.gettempdir()) / "uvicorn-harness"


@dataclass
class RunRecord:
    """What a later run needs to recognise this run and what it left running."""

    run_id: str
    pid: int
    create_time: float
    started_at: str
    scratch: str
    watchdog_pid: int | None = None
    leaders: list[dict[str, Any]] = field(default_factory=list)
    state: str = RUNNING
    reaped: int = 0
    reaped_at: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def load(cls, path: Path) -> RunRecord | None:
        """The record, or None when it is unreadable or its run id is not a plain name."""
        try:
            record = cls(**json.loads(read_text(path, MIB)))
        except (OSError, ValueError, TypeError, RecursionError):  # FileRefused is a ValueError
            return None
        if not isinstance(record.run_id, str) or not _SAFE_RUN_ID.fullmatch(record.run_id):
            return None
        return record

    def own_scratch(self) -> Path:
        """The run's folder under this machine's scratch root (whatever `scratch` says)."""
        return scratch_root() / f"run-{self.run_id}"

    def harness_alive(self) -> bool:
        """Whether the run's harness process still runs: the recorded pid and start
        time, or the pid in the run id started no later than the run id's time (a
        pid cannot be reused while its process lives)."""
        with contextlib.suppress(TypeError, ValueError):
            if same_process(int(self.pid), float(self.create_time)) is not None:
                return True
        match = _RUN_ID.fullmatch(self.run_id)
        if match is None:
            return False
        stamp = calendar.timegm(time.strptime(match.group("time"), "%Y%m%dT%H%M%S"))
        try:
            return psutil.Process(int(match.group("pid"))).create_time() <= stamp + 1
        except (psutil.Error, ValueError, OverflowError):
            return False


def same_process(pid: int, create_time: float) -> psutil.Process | None:
    """The live process `pid` if it is the one that started at `create_time`."""
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - create_time) < 0.01:
            return process
    except psutil.Error:
        pass
    return None


def _carries_marker(process: psutil.Process, run_id: str) -> bool:
    try:
        return bool(process.environ().get(RUN_ENV) == run_id)
    except (psutil.Error, OSError):
        return False


def _recorded_leaders(record: RunRecord) -> list[psutil.Process]:
    """The record's session leaders that are alive, the same processes, and marked."""
    found = []
    for leader in record.leaders if isinstance(record.leaders, list) else ():
        try:
            process = same_process(int(leader["pid"]), float(leader["create_time"]))
        except (KeyError, TypeError, ValueError, OverflowError):
            continue
        if process is not None and _carries_marker(process, record.run_id):
            found.append(process)
    return found


def reap_run(record: RunRecord) -> int:
    """Kill everything the run started that is still alive; returns how many.

    Only processes carrying the run's marker count (and the sessions they lead):
    a leader the record lists without the marker is someone else's process.
    """
    killed: set[int] = set()
    for _ in range(_REAP_PASSES):
        targets: dict[int, psutil.Process] = {}
        for process in marked_processes(run_id=record.run_id):
            targets[process.pid] = process
        for found in _recorded_leaders(record):
            targets[found.pid] = found
        for pid in list(targets):
            with contextlib.suppress(OSError):
                if os.name == "posix" and os.getsid(pid) == pid:
                    for member in session_members(pid):
                        targets.setdefault(member.pid, member)
        targets.pop(os.getpid(), None)
        running = [process for process in targets.values() if is_running(process)]
        if not running:
            break
        kill_processes(running)
        killed.update(process.pid for process in running)
    return len(killed)


def remove_scratch(record: RunRecord) -> None:
    """Remove the run's own scratch folder (never the path the record names)."""
    folder = record.own_scratch()
    if folder.is_symlink():
        with contextlib.suppress(OSError):
            folder.unlink()
    else:
        shutil.rmtree(folder, ignore_errors=True)


def recover_stale_runs(runs_dir: Path) -> list[str]:
    """Clean up after runs on this cache that ended without cleaning up.

    Returns one message per recovered run, for the console.
    """
    messages: list[str] = []
    if not runs_dir.is_dir():
        return messages
    for path in sorted(runs_dir.glob("*.json")):
        record = RunRecord.load(path)
        if record is None:
            with contextlib.suppress(OSError):
                path.unlink()
            messages.append(f"removed an unreadable run record {path.name}")
            continue
        if record.state == REAPED:
            messages.append(
                f"run {record.run_id} (pid {record.pid}) was killed; its watchdog stopped "
                f"{record.reaped} process(es) it had left running"
            )
        elif record.harness_alive():
            continue  # a live run sharing this cache
        else:
            killed = reap_run(record)
            what = (
                f"stopped {killed} process(es) it left running"
                if killed
                else "none of its processes was still running"
            )
            messages.append(
                f"run {record.run_id} (pid {record.pid}, started {record.started_at}) "
                f"ended without cleaning up; {what}"
            )
        remove_scratch(record)
        with contextlib.suppress(OSError):
            path.unlink()
    return messages


def _watchdog_env() -> dict[str, str]:
    env = dict(os.environ)
    package_parent = str(Path(harness.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    return env


class RunGuard:
    """Owns a run's record and watchdog; use as a context manager around execution."""

    def __init__(self, cache_dir: Path, watchdog: bool = True) -> None:
        self.runs_dir = cache_dir / RUNS_DIR
        self.path = self.runs_dir / f"{REGISTRY.run_id}.json"
        self.scratch = scratch_root() / f"run-{REGISTRY.run_id}"
        self.recovered: list[str] = []
        self._watchdog_enabled = watchdog
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        me = psutil.Process()
        self.record = RunRecord(
            run_id=REGISTRY.run_id,
            pid=me.pid,
            create_time=me.create_time(),
            started_at=utc_now(),
            scratch=str(self.scratch),
        )

    def __enter__(self) -> RunGuard:
        self.recovered = recover_stale_runs(self.runs_dir)
        try:
            self.scratch.mkdir(parents=True, exist_ok=True)
            self._write()
        except OSError as exc:
            raise InfrastructureError(
                f"cannot write the run record in {self.runs_dir}: {exc.strerror or exc}"
            ) from None
        if self._watchdog_enabled:
            self._start_watchdog()
        REGISTRY.subscribe(self._on_change)
        self._on_change(REGISTRY.tracked())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        REGISTRY.unsubscribe(self._on_change)
        if REGISTRY.tracked():
            REGISTRY.kill_tracked()
        with contextlib.suppress(OSError):
            self.path.unlink()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self._stop_watchdog()

    def _start_watchdog(self) -> None:
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-m", "harness.procs.watchdog", str(self.path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_watchdog_env(),
                **kwargs,
            )
        except OSError:
            self._watchdog = None  # the run record alone still lets the next run recover
            return
        self.record.watchdog_pid = self._watchdog.pid
        self._write()

    def _stop_watchdog(self) -> None:
        watchdog = self._watchdog
        if watchdog is None or watchdog.stdin is None:
            return
        with contextlib.suppress(OSError):
            watchdog.stdin.write(b"done\n")
            watchdog.stdin.flush()
        with contextlib.suppress(OSError):
            watchdog.stdin.close()
        try:
            watchdog.wait(timeout=5)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait(timeout=5)

    def _on_change(self, live: Sequence[Tracked]) -> None:
        with self._lock:
            self.record.leaders = [tracked.to_json() for tracked in live]
            with contextlib.suppress(OSError):
                # Best effort (e.g. a full disk): processes are found by marker anyway.
                self._write()

    def _write(self) -> None:
        # No fsync: the record must survive the harness dying, not the machine.
        write_text_atomic(self.path, self.record.to_json(), durable=False)
