"""Run one cell: start the real server, wait until ready, probe, stop, reap.

Every wait is bounded by the scenario's limits and ends early on the event it
waits for (a log line, an accepted connection, the process exiting).  The
server runs in its own session; whatever happens, the whole session is killed
before this function returns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.network import PortAllocator, listening_ports, wait_for_connect
from harness.observation import Check, Observation
from harness.output import LineWatch, OutputCapture
from harness.probes import run_http_probe
from harness.processes import (
    REGISTRY,
    alive_members,
    kill_tree,
    session_members,
    signal_group,
    signal_parent,
    spawn,
)
from harness.scenario import LogExpectation, Scenario

#: Variables passed through from the harness's environment; nothing else leaks in.
ENV_ALLOW_LIST = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA",
    "LOCALAPPDATA",
)  # fmt: skip


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    host: str
    port: int


def server_env(scenario: Scenario, env_python: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in ENV_ALLOW_LIST if name in os.environ}
    env["PATH"] = os.pathsep.join([str(env_python.parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(scenario.server.app_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(scenario.server.env)
    return env


def plan_launch(
    scenario: Scenario, env_python: Path, ports: PortAllocator, workdir: Path
) -> LaunchPlan:
    """Turn the scenario's command template into an argument list (no shell)."""
    spec = scenario.server
    port = ports.allocate(spec.host) if spec.port is None else spec.port
    values = {
        "app": spec.app,
        "app_dir": str(spec.app_dir),
        "host": spec.host,
        "port": str(port),
        "python": str(env_python),
    }
    head, *rest = spec.command
    prefix = [str(env_python), "-m", "uvicorn"] if head == "uvicorn" else [str(env_python)]
    argv = prefix + [token.format(**values) for token in rest]
    return LaunchPlan(
        argv=argv, env=server_env(scenario, env_python), cwd=workdir, host=spec.host, port=port
    )


def _log_check(expectation: LogExpectation, watch: LineWatch) -> Check:
    problems = []
    if expectation.min_count is not None and watch.count < expectation.min_count:
        problems.append(f"seen {watch.count}x, wanted at least {expectation.min_count}")
    if expectation.max_count is not None and watch.count > expectation.max_count:
        problems.append(f"seen {watch.count}x, wanted at most {expectation.max_count}")
    if expectation.distinct_min is not None and len(watch.distinct) < expectation.distinct_min:
        problems.append(
            f"{len(watch.distinct)} distinct value(s), wanted at least {expectation.distinct_min}"
        )
    detail = "; ".join(problems) or f"seen {watch.count}x, {len(watch.distinct)} distinct"
    return Check(f"log: {expectation.describe()}", not problems, detail)


def _log_waitable(expectation: LogExpectation, watch: LineWatch) -> bool:
    if expectation.min_count is not None and watch.count < expectation.min_count:
        return False
    return not (
        expectation.distinct_min is not None and len(watch.distinct) < expectation.distinct_min
    )


def _signal_number(name: str) -> int:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return int(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    return int(getattr(signal, name))


class CellRunner:
    """Runs cells; shared across threads, one call per cell."""

    def __init__(self, ports: PortAllocator, cancel: threading.Event, scratch_root: Path) -> None:
        self.ports = ports
        self.cancel = cancel
        self.scratch_root = scratch_root

    def run(self, scenario: Scenario, env_python: Path) -> Observation:
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="cell-", dir=self.scratch_root) as workdir:
            return self._run(scenario, env_python, Path(workdir))

    def _run(self, scenario: Scenario, env_python: Path, workdir: Path) -> Observation:
        launch = plan_launch(scenario, env_python, self.ports, workdir)
        limits = scenario.limits
        patterns = [scenario.server.ready_pattern] + [log.pattern for log in scenario.logs]
        started = time.monotonic()
        process = spawn(launch.argv, cwd=launch.cwd, env=launch.env)
        assert process.stdout is not None
        capture = OutputCapture(process.stdout, patterns).start()
        ready_watch, log_watches = capture.watches[0], capture.watches[1:]
        checks: list[Check] = []
        notes: list[str] = []
        ready = ready_timed_out = stop_timed_out = False
        address: str | None = None
        exit_code: int | None = None
        stop_how = ""
        leftover = 0

        def exited() -> bool:
            return process.poll() is not None or self.cancel.is_set()

        try:
            saw_line = capture.wait_until(lambda: ready_watch.count > 0, limits.ready_s, exited)
            if not saw_line and capture.eof and process.poll() is None:
                # The output ended first; the exit usually follows within moments.
                left = limits.ready_s - (time.monotonic() - started)
                self._exited_within(process, max(0.0, left))
            remaining = max(0.0, limits.ready_s - (time.monotonic() - started))
            announced = (ready_watch.first or {}).get("port")
            port = int(announced) if announced is not None else launch.port
            host = (ready_watch.first or {}).get("host") or launch.host
            host = launch.host if host in ("0.0.0.0", "::", "localhost") else host
            address = f"{host}:{port}"
            if not saw_line:
                if process.poll() is not None:
                    detail = f"exited with code {process.returncode} before it was ready"
                elif self.cancel.is_set():
                    detail = "interrupted before the server was ready"
                else:
                    ready_timed_out = True
                    detail = (
                        f"no line matching /{scenario.server.ready_pattern.pattern}/ "
                        f"within {limits.ready_s:g}s"
                    )
                checks.append(Check("ready", False, detail))
            elif port == 0:
                checks.append(Check("ready", False, "announced port 0, not a real bound port"))
            elif not wait_for_connect(
                host, port, remaining, lambda delay: self._exited_within(process, delay)
            ):
                if process.poll() is not None:
                    detail = f"announced {address} but exited with code {process.returncode}"
                else:
                    ready_timed_out = True
                    detail = f"announced {address} but refused connections for {limits.ready_s:g}s"
                checks.append(Check("ready", False, detail))
            else:
                ready = True
                checks.append(Check("ready", True, f"accepting on {address}"))
                if announced is not None:
                    checks.append(self._ownership_check(process.pid, port))
                for probe in scenario.http:
                    checks.append(run_http_probe(probe, host, port, limits.probe_s))
                if scenario.logs:
                    capture.wait_until(
                        lambda: all(
                            _log_waitable(log, watch)
                            for log, watch in zip(scenario.logs, log_watches, strict=True)
                        ),
                        limits.log_s,
                        exited,
                    )
            exit_code, stop_how, stop_timed_out, exit_check = self._stop(scenario, process)
            checks.append(exit_check)
        finally:
            if process.poll() is None or session_members(process.pid):
                leftover = len(alive_members(process.pid))
                kill_tree(process.pid)
            if process.poll() is None:
                process.wait(timeout=5)
            REGISTRY.discard(process)
            if not capture.join(5.0):
                notes.append("output pipe still open after the server was killed")
        if leftover:
            checks.append(Check("stopped", False, f"{leftover} process(es) left and killed"))
        elif ready:
            checks.append(Check("stopped", True, "no process of the server left"))
        if ready:
            checks.extend(
                _log_check(log, watch)
                for log, watch in zip(scenario.logs, log_watches, strict=True)
            )
        if self.cancel.is_set():
            notes.append("interrupted")
        return Observation(
            checks=tuple(checks),
            ready=ready,
            ready_timed_out=ready_timed_out,
            stop_timed_out=stop_timed_out,
            exit_code=exit_code,
            duration_s=time.monotonic() - started,
            output=capture.text(),
            address=address,
            stop=stop_how,
            leftover_processes=leftover,
            notes=tuple(notes),
        )

    @staticmethod
    def _exited_within(process: subprocess.Popen[bytes], delay: float) -> bool:
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            return False
        return True

    @staticmethod
    def _ownership_check(pid: int, port: int) -> Check:
        pids = [member.pid for member in session_members(pid)]
        owned = listening_ports(pids)
        if not owned:
            return Check("port", True, f"announced port {port} accepts (ownership not visible)")
        ok = port in owned
        detail = f"announced port {port}; server listens on {sorted(owned)}"
        return Check("port", ok, detail)

    def _stop(
        self, scenario: Scenario, process: subprocess.Popen[bytes]
    ) -> tuple[int | None, str, bool, Check]:
        """SIGINT (as asked) → wait → SIGTERM → wait → SIGKILL, on the whole group."""
        expectation = scenario.exit
        if process.poll() is not None:
            code = process.returncode
            return (
                code,
                "exited by itself",
                False,
                Check("exit", False, f"exited by itself with code {code} before the stop signal"),
            )
        signum = _signal_number(expectation.signal)
        sent = time.monotonic()
        send = signal_group if expectation.target == "group" else signal_parent
        send(process.pid, signum)
        if self._wait_session(process, expectation.within_s):
            took = time.monotonic() - sent
            code = process.returncode
            ok = code in expectation.codes
            detail = f"exit code {code} {took:.2f}s after {expectation.signal}"
            if not ok:
                detail += f" (wanted {', '.join(map(str, expectation.codes))})"
            return code, f"{expectation.signal} ({took:.2f}s)", False, Check("exit", ok, detail)
        signal_group(process.pid, int(signal.SIGTERM))
        grace = scenario.limits.kill_grace_s
        if self._wait_session(process, grace):
            how = "SIGTERM"
        else:
            kill_tree(process.pid)
            process.wait(timeout=5)
            how = "SIGKILL"
        detail = (
            f"still running {expectation.within_s:g}s after {expectation.signal}; "
            f"stopped with {how}"
        )
        return process.returncode, how, True, Check("exit", False, detail)

    @staticmethod
    def _wait_session(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
        """Wait for the leader and then every session member, within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        delay = 0.005
        while alive_members(process.pid):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.1)
        return True
