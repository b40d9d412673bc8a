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
spawn token), or by pid *and* start time, never by a pid alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

import harness
from harness.atomic import write_text_atomic
from harness.clock import utc_now
from harness.errors import InfrastructureError
from harness.procs.registry import (
    REGISTRY,
    Tracked,
    is_running,
    kill_processes,
    marked_processes,
    session_members,
)

RUNS_DIR = "runs"
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
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None


def same_process(pid: int, create_time: float) -> psutil.Process | None:
    """The live process `pid` if it is the one that started at `create_time`."""
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - create_time) < 0.01:
            return process
    except psutil.Error:
        pass
    return None


def reap_run(record: RunRecord) -> int:
    """Kill everything the run started that is still alive; returns how many."""
    killed: set[int] = set()
    for _ in range(_REAP_PASSES):
        targets: dict[int, psutil.Process] = {}
        for process in marked_processes(run_id=record.run_id):
            targets[process.pid] = process
        for leader in record.leaders:
            found = same_process(int(leader["pid"]), float(leader["create_time"]))
            if found is not None:
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
    if record.scratch:
        shutil.rmtree(record.scratch, ignore_errors=True)


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
        elif same_process(record.pid, record.create_time) is not None:
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
