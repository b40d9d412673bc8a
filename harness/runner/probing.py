"""Run the scenario's probes and checks against a ready server, and collect results.

First the app's capability probes (see `harness.scenario.applicability`): an
answer that says the feature is missing ends the cell as not applicable.
Probes then run in the scenario's order (http and the comparisons between
their responses, raw, websocket), each bounded by `probe_s`, timed, and
skipped once the run is cancelled; a check that does not apply in the cell is
recorded as skipped instead of run.  Checks that depend on what
the server does in the background (its log lines, the modules it imported)
wait up to `log_s` for their minimums; the ones about the finished run (paths
left after the exit, log counts, imports) are collected once it is reaped.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable

from harness.procs.registry import wait_exit
from harness.runner.endpoints import Address
from harness.runner.launch import Launched
from harness.runner.observation import Check, Findings
from harness.runner.output import LineWatch
from harness.runner.preconditions import capability_verdict
from harness.runner.probes.compare import compare_check
from harness.runner.probes.http import ProbeSessions
from harness.runner.probes.raw import raw_check
from harness.runner.probes.state import (
    import_checks,
    import_log_path,
    imports_satisfied,
    listening_check,
    path_check,
    read_import_log,
)
from harness.runner.probes.websocket import websocket_check
from harness.scenario.checks import LogExpectation


def log_check(expectation: LogExpectation, watch: LineWatch) -> Check:
    problems = []
    if expectation.min_count is not None and watch.count < expectation.min_count:
        problems.append(f"seen {watch.count}x, wanted at least {expectation.min_count}")
    if expectation.max_count is not None and watch.count > expectation.max_count:
        problems.append(f"seen {watch.count}x, wanted at most {expectation.max_count}")
    if expectation.distinct_min is not None and len(watch.distinct) < expectation.distinct_min:
        problems.append(
            f"{len(watch.distinct)} distinct value(s), wanted at least {expectation.distinct_min}"
        )
    seen = f"seen {watch.count}x"
    if expectation.distinct_min is not None:
        seen += f", {len(watch.distinct)} distinct"
    return Check(expectation.check_name(), not problems, "; ".join(problems) or seen)


def _log_waitable(expectation: LogExpectation, watch: LineWatch) -> bool:
    if expectation.min_count is not None and watch.count < expectation.min_count:
        return False
    return not (
        expectation.distinct_min is not None and len(watch.distinct) < expectation.distinct_min
    )


def _timed(run: Callable[[], Check]) -> Check:
    """Run one probe and record how long it took."""
    started = time.monotonic()
    check = run()
    return dataclasses.replace(check, elapsed_s=time.monotonic() - started)


def _applies(server: Launched, found: Findings, sessions: ProbeSessions) -> bool:
    """Ask the app's capability probes; False (with the reason in `found`) when
    the app answers that the feature is not there."""
    for number, capability in enumerate(server.plan.capabilities):
        if server.cancel.is_set():
            return True
        named = dataclasses.replace(capability, id=f"applies-{number}")
        check = sessions.run(named)
        answered = named.check_name() in sessions.answers
        reason = capability_verdict(capability, check, answered)
        if reason is not None:
            found.not_applicable = reason
            return False
        if not answered:
            found.notes.append(f"capability probe {capability.describe()}: {check.detail}")
    return True


def probe(server: Launched, found: Findings, target: Address) -> None:
    """Every probe and running-server check, in order, into `found.checks`.

    Checks that do not apply in this cell are recorded as skipped, not run.
    """
    scenario = server.scenario
    limits = scenario.limits
    skipped = server.plan.skipped_checks

    def add(name: str, run: Callable[[], Check]) -> None:
        if name in skipped:
            found.checks.append(Check(name, True, skipped[name], skipped=True))
        else:
            found.checks.append(_timed(run))

    with ProbeSessions(target, limits.probe_s, server.cancel) as sessions:
        if not _applies(server, found, sessions):
            return
        for http_probe in scenario.http:
            if server.cancel.is_set():
                return
            add(http_probe.check_name(), functools.partial(sessions.run, http_probe))
        for comparison in scenario.compare:
            answers, not_run = sessions.answers, tuple(skipped)
            add(comparison.id, functools.partial(compare_check, comparison, answers, not_run))
    for raw in scenario.raw:
        if server.cancel.is_set():
            return
        add(raw.id, functools.partial(raw_check, target, raw, server.cancel))
    for socket_probe in scenario.websocket:
        if server.cancel.is_set():
            return
        add(
            socket_probe.id,
            functools.partial(websocket_check, target, socket_probe, limits.probe_s),
        )
    if scenario.imports:
        _wait_for_imports(server)
    if scenario.logs:
        server.capture.wait_until(
            lambda: all(
                _log_waitable(log, watch)
                for log, watch in zip(scenario.logs, server.log_watches, strict=True)
            ),
            limits.log_s,
            server.exited,
        )
    for expectation in scenario.listening:
        add(expectation.id, functools.partial(listening_check, expectation))
    for path in scenario.paths:
        if path.when == "running":
            add(path.id, functools.partial(path_check, path, server.plan.values))


def _wait_for_imports(server: Launched) -> None:
    """Until every import minimum is reached, the server exits, or `log_s` passes."""
    log = import_log_path(server.plan.cwd)
    deadline = time.monotonic() + server.scenario.limits.log_s
    delay = 0.01
    while not imports_satisfied(server.scenario.imports, read_import_log(log), server.process.pid):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or server.cancel.is_set():
            return
        if wait_exit(server.process, min(delay, remaining)):
            return
        delay = min(delay * 2, 0.1)


def collect_after_exit(server: Launched, found: Findings, awaited: bool) -> None:
    """The checks about the finished run: paths left behind, log counts (unless
    the server was awaited and never ready) and imports (when it was ready)."""
    scenario = server.scenario
    skipped = server.plan.skipped_checks
    checks = [path_check(e, server.plan.values) for e in scenario.paths if e.when == "exited"]
    if found.ready or not awaited:
        checks += [
            log_check(log, watch)
            for log, watch in zip(scenario.logs, server.log_watches, strict=True)
        ]
    if found.ready and scenario.imports:
        records = read_import_log(import_log_path(server.plan.cwd))
        checks += import_checks(scenario.imports, records, server.process.pid)
    found.checks.extend(
        Check(check.name, True, skipped[check.name], skipped=True)
        if check.name in skipped
        else check
        for check in checks
    )
