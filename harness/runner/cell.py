"""Run one cell: start the real server, wait until ready, probe, stop, reap.

Every wait is bounded by the scenario's limits and ends early on the event it
waits for (a log line, an accepted connection, the process exiting).  The
server runs in its own session; whatever happens, the whole session (and every
process carrying the spawn's marker, even one that left the session) is killed
before this function returns, and whatever was still running is reported.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil

from harness.procs.registry import (
    REGISTRY,
    alive_members,
    describe,
    kill_tree,
    signal_group,
    signal_parent,
    spawn,
    wait_exit,
)
from harness.procs.run_records import scratch_root as machine_scratch_root
from harness.runner.endpoints import Address, Endpoint, wait_until_accepting
from harness.runner.exclusive import ResourceLocks
from harness.runner.observation import Check, Observation
from harness.runner.output import LineWatch, OutputCapture
from harness.runner.ports import (
    ADDRESS_IN_USE,
    PortAllocator,
    is_loopback,
    listening_sockets,
    port_holder,
)
from harness.runner.probes.http import ProbeSessions
from harness.runner.probes.http import prewarm as prewarm_probes
from harness.runner.probes.raw import raw_check
from harness.runner.probes.state import (
    IMPORT_LOG_ENV,
    import_checks,
    import_log_path,
    imports_satisfied,
    in_use_before_start,
    listening_check,
    path_check,
    read_import_log,
)
from harness.runner.probes.websocket import websocket_check
from harness.runner.stranded import TRACEBACK, StrandedWatch
from harness.scenario.checks import LogExpectation
from harness.scenario.model import Scenario
from harness.scenario.placeholders import render
from harness.targets.launchers import NATIVE, Launcher

#: Variables passed through from the harness's environment; nothing else leaks in.
ENV_ALLOW_LIST = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA",
    "LOCALAPPDATA",
)  # fmt: skip
#: A harness-picked port can be taken by someone else between our pick and the
#: server's bind; such a cell is retried on a fresh port this many times.
PORT_RETRIES = 2
#: How long a cell waits for a fixed port (or another exclusive resource) that
#: another cell or run is using.
FIXED_PORT_WAIT_S = 600.0


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    host: str
    port: int
    values: dict[str, str] = field(default_factory=dict)


def server_env(
    scenario: Scenario, env_python: Path, values: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {name: os.environ[name] for name in ENV_ALLOW_LIST if name in os.environ}
    env["PATH"] = os.pathsep.join([str(env_python.parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(scenario.server.app_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if values is not None and "workdir" in values:
        env[IMPORT_LOG_ENV] = str(import_log_path(Path(values["workdir"])))
    for name, value in scenario.server.env.items():
        env[name] = render(value, values) if values is not None else value
    return env


def plan_launch(
    scenario: Scenario,
    env_python: Path,
    endpoint: Endpoint,
    workdir: Path,
    axes: Mapping[str, str] | None = None,
    launcher: Launcher = NATIVE,
) -> LaunchPlan:
    """Turn the scenario's command template into an argument list (no shell)."""
    spec = scenario.server
    values = {
        **dict(axes or {}),
        "app": spec.app,
        "app_dir": str(spec.app_dir),
        "python": str(env_python),
        "workdir": str(workdir),
        **endpoint.placeholders(),
    }
    head, *rest = spec.command
    prefix = launcher.argv_prefix(env_python, head)
    argv = prefix + [render(token, values) for token in rest]
    return LaunchPlan(
        argv=argv,
        env=launcher.environment(server_env(scenario, env_python, values), spec.app_dir),
        cwd=workdir,
        host=spec.host,
        port=endpoint.port,
        values=values,
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
    return Check(expectation.check_name(), not problems, detail)


def _log_waitable(expectation: LogExpectation, watch: LineWatch) -> bool:
    if expectation.min_count is not None and watch.count < expectation.min_count:
        return False
    return not (
        expectation.distinct_min is not None and len(watch.distinct) < expectation.distinct_min
    )


def _exited_within(process: subprocess.Popen[bytes], delay: float) -> bool:
    return wait_exit(process, delay)


def _wait_session(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait for the leader and then every session member, within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    if not wait_exit(process, timeout_s):
        return False
    delay = 0.005
    while alive_members(process.pid):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.1)
    return True


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
        self.resources = ResourceLocks(machine_scratch_root() / "resources")
        threading.Thread(target=prewarm_probes, name="prewarm-probes", daemon=True).start()

    def run(
        self,
        scenario: Scenario,
        env_python: Path,
        launcher: Launcher = NATIVE,
        axes: Mapping[str, str] | None = None,
    ) -> Observation:
        """`launcher`: how the target platform starts servers; `axes`: the cell's
        matrix values, for `{axis}` placeholders."""
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="cell-", dir=self.scratch_root) as workdir,
            self._exclusive(scenario) as conflict,
        ):
            if conflict is not None:
                return _conflict_observation(conflict)
            fixed = scenario.server.fixed_port
            if fixed is not None:
                holder = port_holder(scenario.server.host, fixed)
                if holder is not None:
                    return _conflict_observation(
                        f"port {scenario.server.host}:{fixed}, which the scenario asks for, "
                        f"is already in use by {holder}; the server was not started"
                    )
                return self._run(scenario, env_python, Path(workdir), axes or {}, launcher)
            notes: list[str] = []
            for attempt in range(PORT_RETRIES + 1):
                observation = self._run(scenario, env_python, Path(workdir), axes or {}, launcher)
                if observation.port_conflict is None or scenario.server.port == 0:
                    break
                if attempt < PORT_RETRIES and not self.cancel.is_set():
                    notes.append(f"{observation.port_conflict}; retried on another port")
            return replace(observation, notes=(*notes, *observation.notes))

    @contextlib.contextmanager
    def _exclusive(self, scenario: Scenario) -> Iterator[str | None]:
        """Hold the scenario's fixed port and exclusive resources (sorted, so two
        cells never wait for each other); yields why not, or None once held.

        A fixed port is the resource `tcp:HOST:PORT`, the name scenarios use for
        an address they watch, so a scenario that binds a fixed port and one
        that watches it never run at once."""
        names = set(scenario.exclusive_resources())
        fixed = scenario.server.fixed_port
        if fixed is not None:
            names.add(f"tcp:{scenario.server.host}:{fixed}")
        with contextlib.ExitStack() as stack:
            for name in sorted(names):
                hold = self.resources.hold([name], self.cancel.is_set, FIXED_PORT_WAIT_S)
                if not stack.enter_context(hold):
                    yield (
                        f"{name.removeprefix('tcp:')} stayed in use by another harness cell "
                        f"or run for {FIXED_PORT_WAIT_S:g}s"
                    )
                    return
            yield None

    def _run(
        self,
        scenario: Scenario,
        env_python: Path,
        workdir: Path,
        axes: Mapping[str, str],
        launcher: Launcher,
    ) -> Observation:
        blocked = [c for e in scenario.listening if (c := in_use_before_start(e)) is not None]
        if blocked:
            return Observation(
                checks=tuple(blocked), ready=False, ready_timed_out=False, stop_timed_out=False,
                exit_code=None, duration_s=0.0, output="",
                notes=("not started: an address it must leave free was taken",),
            )  # fmt: skip
        endpoint = Endpoint.open(scenario.server, self.ports, workdir)
        try:
            launch = plan_launch(scenario, env_python, endpoint, workdir, axes, launcher)
            return _Cell(self, scenario, endpoint, launch, launcher).run()
        finally:
            endpoint.release()


class _Cell:
    """The state of one server run, from spawn to reaping."""

    def __init__(
        self,
        runner: CellRunner,
        scenario: Scenario,
        endpoint: Endpoint,
        launch: LaunchPlan,
        launcher: Launcher = NATIVE,
    ) -> None:
        self.runner = runner
        self.launcher = launcher
        self.cancel = runner.cancel
        self.scenario = scenario
        self.endpoint = endpoint
        self.launch = launch
        self.checks: list[Check] = []
        self.notes: list[str] = []
        self.ready = self.ready_timed_out = self.stop_timed_out = False
        self.address: str | None = None
        self.exit_code: int | None = None
        self.stop_how = ""
        self.port_conflict: str | None = None

    def run(self) -> Observation:
        scenario = self.scenario
        spec = scenario.server
        patterns = [p for p in [spec.ready_pattern] if p is not None]
        patterns += [log.pattern for log in scenario.logs]
        patterns.append(TRACEBACK)
        self.launcher.prepare()
        self.started = time.monotonic()
        self.process = spawn(
            self.launch.argv,
            cwd=self.launch.cwd,
            env=self.launch.env,
            **self.endpoint.spawn_options(),
        )
        self.token = REGISTRY.token_of(self.process.pid)
        self.endpoint.release()
        assert self.process.stdout is not None
        self.capture = OutputCapture(self.process.stdout, patterns).start()
        offset = 1 if spec.ready_pattern is not None else 0
        self.ready_watch = self.capture.watches[0] if offset else None
        self.log_watches = self.capture.watches[offset:-1]
        self.traceback_watch = self.capture.watches[-1]
        self.stranded = StrandedWatch(self.process.pid)
        leftovers: list[psutil.Process] = []
        awaited = scenario.needs_running_server()
        try:
            if awaited:
                target = self._await_ready()
                if target is not None:
                    self._probe(target)
                elif self.process.poll() is None and not self.cancel.is_set():
                    self.checks.extend(listening_check(e) for e in scenario.listening)
                died = self.process.poll() is not None
                if not self.ready and died and self.endpoint.kind == "tcp" and self.launch.port:
                    self.port_conflict = self._port_conflict()
            self._stop()
        finally:
            leftovers = alive_members(self.process.pid, self.token, deep=True)
            if self.process.poll() is None or leftovers:
                kill_tree(self.process.pid, self.token)
            if self.process.poll() is None:
                self.process.wait(timeout=5)
            REGISTRY.discard(self.process)
            if not self.capture.join(5.0):
                self.notes.append("output pipe still open after the server was killed")
        if leftovers:
            self.checks.append(
                Check(
                    "stopped",
                    False,
                    f"{len(leftovers)} process(es) still running after the server stopped, "
                    f"killed: {_names(leftovers)}",
                )
            )
        elif self.ready:
            self.checks.append(Check("stopped", True, "no process of the server left"))
        self.checks.extend(
            path_check(e, self.launch.values) for e in scenario.paths if e.when == "exited"
        )
        if self.ready or not awaited:
            self.checks.extend(
                _log_check(log, watch)
                for log, watch in zip(scenario.logs, self.log_watches, strict=True)
            )
        if self.ready and scenario.imports:
            records = read_import_log(import_log_path(self.launch.cwd))
            self.checks.extend(import_checks(scenario.imports, records, self.process.pid))
        if self.cancel.is_set():
            self.notes.append("interrupted")
        return Observation(
            checks=tuple(self.checks),
            ready=self.ready,
            ready_timed_out=self.ready_timed_out,
            stop_timed_out=self.stop_timed_out,
            exit_code=self.exit_code,
            duration_s=time.monotonic() - self.started,
            output=self.capture.text(),
            address=self.address,
            stop=self.stop_how,
            leftover_processes=len(leftovers),
            notes=tuple(self.notes),
            port_conflict=self.port_conflict,
        )

    def _exited(self) -> bool:
        return self.process.poll() is not None or self.cancel.is_set()

    def _not_ready(self, waiting_for: str, timed_out: str) -> None:
        """`waiting_for`: what never happened; `timed_out`: the detail if time ran out."""
        if self.process.poll() is not None:
            code = self.process.returncode
            detail = f"exited with code {code} before it was ready (waiting for {waiting_for})"
        elif self.cancel.is_set():
            detail = "interrupted before the server was ready"
        elif self.stranded.reason is not None:
            elapsed = time.monotonic() - self.started
            detail = f"{self.stranded.reason}; gave up on {waiting_for} after {elapsed:.1f}s"
        else:
            self.ready_timed_out = True
            detail = timed_out
        self.checks.append(Check("ready", False, detail, timed_out=self.ready_timed_out))

    def _give_up_connecting(self, delay: float) -> bool:
        """Between refused connects: the server exited, or its workers all died."""
        if _exited_within(self.process, delay):
            return True
        if self.launcher.sockets_hidden:  # under an emulator the process tree is not the server's
            return False
        return self.stranded.stranded(self.traceback_watch.count > 0)

    def _await_ready(self) -> Address | None:
        """The ready line (if the scenario has one), then an accepted connection."""
        limits = self.scenario.limits
        pattern = self.scenario.server.ready_pattern
        announced: dict[str, str] = {}
        if pattern is not None and self.ready_watch is not None:
            watch = self.ready_watch
            saw_line = self.capture.wait_until(
                lambda: watch.count > 0, limits.ready_s, self._exited
            )
            if not saw_line and self.capture.eof and self.process.poll() is None:
                # The output ended first; the exit usually follows within moments.
                left = limits.ready_s - (time.monotonic() - self.started)
                _exited_within(self.process, max(0.0, left))
            if not saw_line:
                waited = (
                    f"closed its output without printing a line matching /{pattern.pattern}/ "
                    f"and kept running for {limits.ready_s:g}s"
                    if self.capture.eof
                    else f"no line matching /{pattern.pattern}/ within {limits.ready_s:g}s"
                )
                self._not_ready(f"a line matching /{pattern.pattern}/", waited)
                return None
            announced = watch.first or {}
        port_text = announced.get("port")
        port = _as_port(port_text) if port_text is not None else None
        target = self.endpoint.target(announced.get("host"), port)
        self.address = target.describe()
        if self.endpoint.kind == "tcp" and target.port == 0:
            self.checks.append(Check("ready", False, "announced port 0, not a real bound port"))
            return None
        if self.endpoint.kind == "tcp" and target.port < 0:
            detail = f"announced port {port_text!r} is not a port"
            self.checks.append(Check("ready", False, detail))
            return None
        if self.endpoint.kind == "fd":
            # A passed socket accepts (into its backlog) from the start: the
            # ready line is the signal; the probes then show who answers.
            self.ready = True
            self.checks.append(Check("ready", True, f"serving the passed socket {self.address}"))
            self.checks.extend(self._socket_checks(target.port))
            return target
        budget = max(0.0, limits.ready_s - (time.monotonic() - self.started))
        if pattern is not None and limits.connect_s is not None:
            budget = min(budget, limits.connect_s)
        if not wait_until_accepting(target, budget, self._give_up_connecting):
            said = f"announced it serves but {self.address}" if pattern else self.address
            self._not_ready(
                f"{self.address} accepted connections",
                f"{said} refused connections for {budget:g}s",
            )
            return None
        self.ready = True
        self.checks.append(Check("ready", True, f"accepting on {self.address}"))
        self.checks.extend(self._socket_checks(target.port if target.uds is None else None))
        return target

    def _probe(self, target: Address) -> None:
        scenario = self.scenario
        limits = scenario.limits
        with ProbeSessions(target, limits.probe_s, self.cancel) as sessions:
            for probe in scenario.http:
                if self.cancel.is_set():
                    return
                self.checks.append(sessions.run(probe))
        for raw in scenario.raw:
            if self.cancel.is_set():
                return
            self.checks.append(raw_check(target, raw, self.cancel))
        for socket_probe in scenario.websocket:
            if self.cancel.is_set():
                return
            self.checks.append(websocket_check(target, socket_probe, limits.probe_s))
        if scenario.imports:
            self._wait_for_imports()
        if scenario.logs:
            self.capture.wait_until(
                lambda: all(
                    _log_waitable(log, watch)
                    for log, watch in zip(scenario.logs, self.log_watches, strict=True)
                ),
                limits.log_s,
                self._exited,
            )
        self.checks.extend(listening_check(e) for e in scenario.listening)
        self.checks.extend(
            path_check(e, self.launch.values) for e in scenario.paths if e.when == "running"
        )

    def _wait_for_imports(self) -> None:
        """Until every import minimum is reached, the server exits, or `log_s` passes."""
        log = import_log_path(self.launch.cwd)
        deadline = time.monotonic() + self.scenario.limits.log_s
        delay = 0.01
        while not imports_satisfied(self.scenario.imports, read_import_log(log), self.process.pid):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.cancel.is_set():
                return
            if _exited_within(self.process, min(delay, remaining)):
                return
            delay = min(delay * 2, 0.1)

    def _socket_checks(self, port: int | None) -> list[Check]:
        """The port we talk to is the server's own (`port`; None for a Unix socket),
        and the server listens on loopback only."""
        if self.launcher.sockets_hidden:
            if port is None:
                return []
            return [Check("port", True, f"port {port} accepts ({self.launcher.sockets_hidden})")]
        members = [m.pid for m in alive_members(self.process.pid, self.token, deep=True)]
        sockets, visible = listening_sockets(members)
        if not visible:
            if port is None:
                return []
            return [Check("port", True, f"port {port} accepts (ownership not visible here)")]
        owned = sorted({p for _, p in sockets})
        checks = []
        if port is not None:
            detail = f"port {port}; the server's processes listen on {owned or 'no port'}"
            checks.append(Check("port", port in owned, detail))
        public = sorted(f"{address}:{p}" for address, p in sockets if not is_loopback(address))
        if public:
            detail = f"the server listens beyond loopback: {', '.join(public)}"
            checks.append(Check("loopback", False, detail))
        return checks

    def _port_conflict(self) -> str | None:
        """When the server died saying its port is taken, and someone else has it."""
        if not ADDRESS_IN_USE.search(self.capture.text()):
            return None
        holder = port_holder(self.launch.host, self.launch.port)
        if holder is None:
            return None
        return f"port {self.launch.host}:{self.launch.port} was already in use by {holder}"

    def _stop(self) -> None:
        if self.scenario.exit.signal == "none":
            self._await_own_exit()
        else:
            self._signal_stop()

    def _await_own_exit(self) -> None:
        """`signal = "none"`: the server must exit by itself within `within_s`."""
        expectation = self.scenario.exit
        since = time.monotonic()
        if _wait_session(self.process, expectation.within_s):
            self._record_exit("by itself", time.monotonic() - self.started)
            return
        self._escalate(f"still running {expectation.within_s:g}s later (it should exit by itself)")
        self.stop_how = f"{self.stop_how} after {time.monotonic() - since:.1f}s"

    def _record_exit(self, how: str, took: float) -> None:
        expectation = self.scenario.exit
        code = self.process.returncode
        self.exit_code = code
        ok = not expectation.codes or code in expectation.codes
        detail = f"exit code {code} {took:.2f}s after {'start' if how == 'by itself' else how}"
        if not ok:
            detail += f" (wanted {', '.join(map(str, expectation.codes))})"
        self.stop_how = f"{how} ({took:.2f}s)"
        self.checks.append(Check("exit", ok, detail))

    def _signal_stop(self) -> None:
        """SIGINT (as asked) → wait → SIGTERM → grace → SIGKILL, on the whole session."""
        expectation = self.scenario.exit
        process = self.process
        if process.poll() is not None:
            code = process.returncode
            self.exit_code = code
            self.stop_how = "exited by itself"
            detail = f"exited by itself with code {code} before the stop signal"
            self.checks.append(Check("exit", False, detail))
            return
        signum = self.launcher.stop_signal(expectation.signal)
        sent = time.monotonic()
        send = signal_group if expectation.target == "group" else signal_parent
        send(process.pid, signum)
        if _wait_session(process, expectation.within_s):
            self._record_exit(expectation.signal, time.monotonic() - sent)
            return
        leader_code = process.poll()
        if leader_code is not None:
            why = (
                f"the server exited with code {leader_code} after {expectation.signal}, but "
                f"processes of its session were still running {expectation.within_s:g}s later"
            )
        else:
            why = f"still running {expectation.within_s:g}s after {expectation.signal}"
        self._escalate(why)

    def _escalate(self, why: str) -> None:
        """SIGTERM to the group (and to members that left it), then SIGKILL after the grace."""
        process = self.process
        signal_group(process.pid, int(signal.SIGTERM))
        for member in alive_members(process.pid, self.token, deep=True):
            if member.pid != process.pid:
                signal_parent(member.pid, int(signal.SIGTERM))
        grace = self.scenario.limits.kill_grace_s
        detail = why
        if _wait_session(process, grace):
            how = "SIGTERM"
            detail += "; stopped with SIGTERM"
        else:
            stubborn = alive_members(process.pid, self.token, deep=True)
            kill_tree(process.pid, self.token)
            process.wait(timeout=5)
            how = "SIGKILL"
            detail += f"; stopped with SIGKILL at the end of the {grace:g}s grace"
            if stubborn:
                detail += (
                    f"; {len(stubborn)} process(es) still running {grace:g}s after SIGTERM: "
                    f"{_names(stubborn)}"
                )
        self.exit_code = process.returncode
        self.stop_how = how
        self.stop_timed_out = True
        self.checks.append(Check("exit", False, detail, timed_out=True))
