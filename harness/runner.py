"""Run one cell: start the real server, wait until ready, probe, stop, reap.

Every wait is bounded by the scenario's limits and ends early on the event it
waits for (a log line, an accepted connection, the process exiting).  The
server runs in its own session; whatever happens, the whole session (and every
process carrying the spawn's marker, even one that left the session) is killed
before this function returns, and whatever was still running is reported.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from harness.launchers import NATIVE, Launcher
from harness.network import (
    ADDRESS_IN_USE,
    FixedPortLocks,
    PortAllocator,
    is_loopback,
    listening_sockets,
    port_holder,
    wait_for_connect,
)
from harness.observation import Check, Observation
from harness.output import LineWatch, OutputCapture
from harness.probes import run_http_probe
from harness.processes import (
    REGISTRY,
    alive_members,
    describe,
    kill_tree,
    signal_group,
    signal_parent,
    spawn,
)
from harness.runs import scratch_root as machine_scratch_root
from harness.scenario import LogExpectation, Scenario

#: Variables passed through from the harness's environment; nothing else leaks in.
ENV_ALLOW_LIST = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA",
    "LOCALAPPDATA",
)  # fmt: skip
#: A harness-picked port can be taken by someone else between our pick and the
#: server's bind; such a cell is retried on a fresh port this many times.
PORT_RETRIES = 2
#: How long a cell waits for a fixed port that another cell or run is using.
FIXED_PORT_WAIT_S = 600.0


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
    scenario: Scenario,
    env_python: Path,
    ports: PortAllocator,
    workdir: Path,
    launcher: Launcher = NATIVE,
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
    prefix = launcher.argv_prefix(env_python, head)
    argv = prefix + [token.format(**values) for token in rest]
    env = launcher.environment(server_env(scenario, env_python), spec.app_dir)
    return LaunchPlan(argv=argv, env=env, cwd=workdir, host=spec.host, port=port)


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


def _as_port(text: str) -> int:
    """The announced port as a number; -1 when the ready line captured something else."""
    if re.fullmatch(r"[0-9]{1,5}", text) and int(text) <= 65535:
        return int(text)
    return -1


def _names(processes: Sequence[psutil.Process], limit: int = 4) -> str:
    shown = ", ".join(describe(process) for process in processes[:limit])
    more = f" and {len(processes) - limit} more" if len(processes) > limit else ""
    return shown + more


def _conflict_observation(conflict: str, notes: Sequence[str] = ()) -> Observation:
    """A cell that never started its server because its port was not available."""
    return Observation(
        checks=(Check("port", False, conflict),),
        ready=False,
        ready_timed_out=False,
        stop_timed_out=False,
        exit_code=None,
        duration_s=0.0,
        output="",
        notes=tuple(notes),
        port_conflict=conflict,
    )


class CellRunner:
    """Runs cells; shared across threads, one call per cell."""

    def __init__(self, ports: PortAllocator, cancel: threading.Event, scratch_root: Path) -> None:
        self.ports = ports
        self.cancel = cancel
        self.scratch_root = scratch_root
        self.fixed_ports = FixedPortLocks(machine_scratch_root() / "ports")

    def run(self, scenario: Scenario, env_python: Path, launcher: Launcher = NATIVE) -> Observation:
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="cell-", dir=self.scratch_root) as workdir:
            fixed = scenario.server.fixed_port
            if fixed is not None:
                return self._run_on_fixed_port(scenario, env_python, Path(workdir), fixed, launcher)
            notes: list[str] = []
            for attempt in range(PORT_RETRIES + 1):
                observation = self._run(scenario, env_python, Path(workdir), launcher)
                if observation.port_conflict is None or scenario.server.port == 0:
                    break
                if attempt < PORT_RETRIES and not self.cancel.is_set():
                    notes.append(f"{observation.port_conflict}; retried on another port")
            return replace(observation, notes=(*notes, *observation.notes))

    def _run_on_fixed_port(
        self, scenario: Scenario, env_python: Path, workdir: Path, port: int, launcher: Launcher
    ) -> Observation:
        host = scenario.server.host
        with self.fixed_ports.hold(host, port, FIXED_PORT_WAIT_S, self.cancel.is_set) as held:
            if not held:
                return _conflict_observation(
                    f"port {host}:{port} stayed in use by another harness cell or run "
                    f"for {FIXED_PORT_WAIT_S:g}s"
                )
            holder = port_holder(host, port)
            if holder is not None:
                return _conflict_observation(
                    f"port {host}:{port}, which the scenario asks for, is already in use "
                    f"by {holder}; the server was not started"
                )
            return self._run(scenario, env_python, workdir, launcher)

    def _run(
        self, scenario: Scenario, env_python: Path, workdir: Path, launcher: Launcher
    ) -> Observation:
        launch = plan_launch(scenario, env_python, self.ports, workdir, launcher)
        limits = scenario.limits
        patterns = [scenario.server.ready_pattern] + [log.pattern for log in scenario.logs]
        launcher.prepare()
        started = time.monotonic()
        process = spawn(launch.argv, cwd=launch.cwd, env=launch.env)
        token = REGISTRY.token_of(process.pid)
        assert process.stdout is not None
        capture = OutputCapture(process.stdout, patterns).start()
        ready_watch, log_watches = capture.watches[0], capture.watches[1:]
        checks: list[Check] = []
        notes: list[str] = []
        ready = ready_timed_out = stop_timed_out = False
        address: str | None = None
        exit_code: int | None = None
        stop_how = ""
        leftovers: list[psutil.Process] = []
        port_conflict: str | None = None

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
            port = launch.port if announced is None else _as_port(announced)
            host = (ready_watch.first or {}).get("host") or launch.host
            host = launch.host if host in ("0.0.0.0", "::", "localhost") else host
            address = f"{host}:{port}"
            if not saw_line:
                if process.poll() is not None:
                    detail = f"exited with code {process.returncode} before it was ready"
                elif self.cancel.is_set():
                    detail = "interrupted before the server was ready"
                elif capture.eof:
                    ready_timed_out = True
                    detail = (
                        "closed its output without printing a line matching "
                        f"/{scenario.server.ready_pattern.pattern}/ and kept running "
                        f"for {limits.ready_s:g}s"
                    )
                else:
                    ready_timed_out = True
                    detail = (
                        f"no line matching /{scenario.server.ready_pattern.pattern}/ "
                        f"within {limits.ready_s:g}s"
                    )
                checks.append(Check("ready", False, detail, timed_out=ready_timed_out))
            elif port == 0:
                checks.append(Check("ready", False, "announced port 0, not a real bound port"))
            elif port < 0:
                checks.append(Check("ready", False, f"announced port {announced!r} is not a port"))
            elif not wait_for_connect(
                host, port, remaining, lambda delay: self._exited_within(process, delay)
            ):
                if process.poll() is not None:
                    detail = f"announced {address} but exited with code {process.returncode}"
                else:
                    ready_timed_out = True
                    detail = f"announced {address} but refused connections for {limits.ready_s:g}s"
                checks.append(Check("ready", False, detail, timed_out=ready_timed_out))
            else:
                ready = True
                checks.append(Check("ready", True, f"accepting on {address}"))
                checks.extend(self._socket_checks(process.pid, token, port, launcher))
                for probe in scenario.http:
                    if self.cancel.is_set():
                        break
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
            if not ready and launch.port and process.poll() is not None:
                port_conflict = self._port_conflict(launch, capture)
            exit_code, stop_how, stop_timed_out, exit_check = self._stop(
                scenario, process, token, launcher.stop_signal(scenario.exit.signal)
            )
            checks.append(exit_check)
        finally:
            leftovers = alive_members(process.pid, token, deep=True)
            if process.poll() is None or leftovers:
                kill_tree(process.pid, token)
            if process.poll() is None:
                process.wait(timeout=5)
            REGISTRY.discard(process)
            if not capture.join(5.0):
                notes.append("output pipe still open after the server was killed")
        if leftovers:
            checks.append(
                Check(
                    "stopped",
                    False,
                    f"{len(leftovers)} process(es) still running after the server stopped, "
                    f"killed: {_names(leftovers)}",
                )
            )
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
            leftover_processes=len(leftovers),
            notes=tuple(notes),
            port_conflict=port_conflict,
        )

    @staticmethod
    def _port_conflict(launch: LaunchPlan, capture: OutputCapture) -> str | None:
        """When the server died saying its port is taken, and someone else has it."""
        if not ADDRESS_IN_USE.search(capture.text()):
            return None
        holder = port_holder(launch.host, launch.port)
        if holder is None:
            return None
        return f"port {launch.host}:{launch.port} was already in use by {holder}"

    @staticmethod
    def _exited_within(process: subprocess.Popen[bytes], delay: float) -> bool:
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            return False
        return True

    @staticmethod
    def _socket_checks(pid: int, token: str | None, port: int, launcher: Launcher) -> list[Check]:
        """The port we talk to is the server's own, and it listens on loopback only."""
        if launcher.sockets_hidden:
            return [Check("port", True, f"port {port} accepts ({launcher.sockets_hidden})")]
        members = [member.pid for member in alive_members(pid, token, deep=True)]
        sockets, visible = listening_sockets(members)
        if not visible:
            return [Check("port", True, f"port {port} accepts (ownership not visible here)")]
        owned = sorted({p for _, p in sockets})
        checks = [
            Check(
                "port",
                port in owned,
                f"port {port}; the server's processes listen on {owned or 'no port'}",
            )
        ]
        public = sorted(f"{address}:{p}" for address, p in sockets if not is_loopback(address))
        if public:
            checks.append(
                Check("loopback", False, f"the server listens beyond loopback: {', '.join(public)}")
            )
        return checks

    def _stop(
        self,
        scenario: Scenario,
        process: subprocess.Popen[bytes],
        token: str | None,
        signum: int,
    ) -> tuple[int | None, str, bool, Check]:
        """SIGINT (as asked) → wait → SIGTERM → grace → SIGKILL, on the whole session."""
        expectation = scenario.exit
        if process.poll() is not None:
            code = process.returncode
            return (
                code,
                "exited by itself",
                False,
                Check("exit", False, f"exited by itself with code {code} before the stop signal"),
            )
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
        leader_code = process.poll()
        # SIGTERM to the group, and to members that moved to another group or session.
        signal_group(process.pid, int(signal.SIGTERM))
        for member in alive_members(process.pid, token, deep=True):
            if member.pid != process.pid:
                signal_parent(member.pid, int(signal.SIGTERM))
        grace = scenario.limits.kill_grace_s
        if self._wait_session(process, grace):
            how = "SIGTERM"
            survivors = ""
        else:
            stubborn = alive_members(process.pid, token, deep=True)
            survivors = (
                f"; {len(stubborn)} process(es) still running {grace:g}s after SIGTERM: "
                f"{_names(stubborn)}"
            )
            kill_tree(process.pid, token)
            process.wait(timeout=5)
            how = "SIGKILL"
        if leader_code is not None:
            detail = (
                f"the server exited with code {leader_code} after {expectation.signal}, but "
                f"processes of its session were still running {expectation.within_s:g}s later"
            )
        else:
            detail = f"still running {expectation.within_s:g}s after {expectation.signal}"
        detail += f"; stopped with {how}"
        if how == "SIGKILL":
            detail += f" at the end of the {grace:g}s grace{survivors}"
        return process.returncode, how, True, Check("exit", False, detail, timed_out=True)

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
