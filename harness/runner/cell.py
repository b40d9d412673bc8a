"""Run one cell: start the real server, wait until ready, probe, stop, reap.

`CellRunner` holds what cells share (ports, exclusive resources, the cancel
event) and retries a cell whose picked port was taken before the bind; the
stages of one server run live in `launch`, `readiness`, `probing` and
`stopping`, and `_run_server` calls them in that order.

Every wait is bounded by the scenario's limits and ends early on the event it
waits for (a log line, an accepted connection, the process exiting).  The
server runs in its own session; whatever happens, the whole session (and every
process carrying the spawn's marker, even one that left the session) is killed
before `CellRunner.run` returns, and whatever was still running is reported.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.patterns import PatternTimeout
from harness.procs.run_records import scratch_root as machine_scratch_root
from harness.runner.endpoints import Endpoint
from harness.runner.exclusive import ResourceLocks
from harness.runner.launch import LaunchPlan, plan_launch, start
from harness.runner.observation import Check, Findings, Observation
from harness.runner.ports import PortAllocator, port_holder
from harness.runner.preconditions import HelpTexts
from harness.runner.probes.http import prewarm as prewarm_probes
from harness.runner.probes.state import in_use_before_start, listening_check
from harness.runner.probing import collect_after_exit, probe
from harness.runner.readiness import await_ready, port_conflict
from harness.runner.stopping import check_leftovers, reap, stop
from harness.scenario.applicability import CellSite
from harness.scenario.checks import HttpProbe
from harness.scenario.model import Scenario
from harness.targets.launchers import NATIVE, Launcher

#: The launch planning moved to `launch`; its names stay importable from here.
#: A harness-picked port can be taken by someone else between our pick and the
#: server's bind; such a cell is retried on a fresh port this many times.
PORT_RETRIES = 2
#: How long a cell waits for a fixed port (or another exclusive resource) that
#: another cell or run is using.
FIXED_PORT_WAIT_S = 600.0


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
        #: `uvicorn --help` per environment, for the scenarios that ask it.
        self.help = HelpTexts()
        threading.Thread(target=prewarm_probes, name="prewarm-probes", daemon=True).start()

    def run(
        self,
        scenario: Scenario,
        env_python: Path,
        launcher: Launcher = NATIVE,
        axes: Mapping[str, str] | None = None,
        site: CellSite | None = None,
    ) -> Observation:
        """`launcher`: how the target platform starts servers; `axes`: the cell's
        matrix values, for `{axis}` placeholders; `site`: the cell's release and
        Python, for the checks that apply only to some (None: every check applies)."""
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="cell-", dir=self.scratch_root) as workdir,
            self._exclusive(scenario) as conflict,
        ):
            if conflict is not None:
                return _conflict_observation(conflict)
            applies = self._applies(scenario, env_python, launcher, site, Path(workdir))
            if isinstance(applies, Observation):
                return applies
            fixed = scenario.server.fixed_port
            if fixed is not None:
                holder = port_holder(scenario.server.host, fixed)
                if holder is not None:
                    return _conflict_observation(
                        f"port {scenario.server.host}:{fixed}, which the scenario asks for, "
                        f"is already in use by {holder}; the server was not started"
                    )
                return self._run(scenario, env_python, Path(workdir), applies, launcher)
            notes: list[str] = []
            for attempt in range(PORT_RETRIES + 1):
                observation = self._run(scenario, env_python, Path(workdir), applies, launcher)
                if observation.port_conflict is None or scenario.server.port == 0:
                    break
                if attempt < PORT_RETRIES and not self.cancel.is_set():
                    notes.append(f"{observation.port_conflict}; retried on another port")
            return replace(observation, notes=(*notes, *observation.notes))

    def _applies(
        self,
        scenario: Scenario,
        env_python: Path,
        launcher: Launcher,
        site: CellSite | None,
        workdir: Path,
    ) -> _Applies | Observation:
        """What applies in this cell, or the observation of a cell that does not
        (an option its `--help` does not list)."""
        axes = dict(site.axes) if site is not None else {}
        rules = scenario.applicability
        if site is None:
            return _Applies(axes, {}, tuple(rules.probes(axes)))
        help_text = None
        if rules.needs_help(axes):
            help_text = self.help.get(env_python, launcher, scenario.server.app_dir, workdir)
            reason = rules.help_reason(site, help_text) if help_text is not None else None
            if reason is not None:
                return _not_applicable_observation(reason)
        skipped = rules.skipped_checks(site, help_text)
        return _Applies(axes, skipped, tuple(rules.probes(axes)))

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
        applies: _Applies,
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
            launch = plan_launch(scenario, env_python, endpoint, workdir, applies.axes, launcher)
            launch = replace(
                launch, skipped_checks=applies.skipped, capabilities=applies.capabilities
            )
            return _run_server(scenario, endpoint, launch, launcher, self.cancel)
        finally:
            endpoint.release()


def _run_server(
    scenario: Scenario,
    endpoint: Endpoint,
    launch: LaunchPlan,
    launcher: Launcher,
    cancel: threading.Event,
) -> Observation:
    """One server run, from spawn to reaping: the four stages in order."""
    server = start(scenario, endpoint, launch, launcher, cancel)
    found = Findings()
    awaited = scenario.needs_running_server()
    try:
        try:
            if awaited:
                target = await_ready(server, found)
                _time_ready(found, time.monotonic() - server.started)
                if target is not None:
                    probe(server, found, target)
                elif server.process.poll() is None and not cancel.is_set():
                    found.checks.extend(listening_check(e) for e in scenario.listening)
                died = server.process.poll() is not None
                if not found.ready and died and endpoint.kind == "tcp" and launch.port:
                    found.port_conflict = port_conflict(server)
        except PatternTimeout as exc:  # a raw check's pattern: nothing more is asked
            found.aborted = str(exc)
        stop(server, found)
    finally:
        leftovers = reap(server, found)
        if server.guard is not None:
            server.guard.stop()
    check_leftovers(found, leftovers)
    collect_after_exit(server, found, awaited)
    if cancel.is_set():
        found.notes.append("interrupted")
    return Observation(
        checks=tuple(found.checks),
        ready=found.ready,
        ready_timed_out=found.ready_timed_out,
        stop_timed_out=found.stop_timed_out,
        exit_code=found.exit_code,
        duration_s=time.monotonic() - server.started,
        output=server.capture.text(),
        address=found.address,
        stop=found.stop_how,
        leftover_processes=len(leftovers),
        notes=tuple(found.notes),
        port_conflict=found.port_conflict,
        aborted=(server.guard and server.guard.reason) or server.capture.failure or found.aborted,
        not_applicable=found.not_applicable,
    )


def _time_ready(found: Findings, elapsed_s: float) -> None:
    """The "ready" check took from the start until now."""
    found.checks[:] = [
        replace(check, elapsed_s=elapsed_s) if check.name == "ready" else check
        for check in found.checks
    ]


def _not_applicable_observation(reason: str) -> Observation:
    """A cell whose server was not started: it does not apply here."""
    return Observation(
        checks=(), ready=False, ready_timed_out=False, stop_timed_out=False, exit_code=None,
        duration_s=0.0, output="", not_applicable=reason,
    )  # fmt: skip


@dataclass(frozen=True)
class _Applies:
    """What applies in one cell: its axis values, the checks that do not apply
    (name -> why), and the capability probes to ask."""

    axes: Mapping[str, str]
    skipped: Mapping[str, str]
    capabilities: tuple[HttpProbe, ...]
