"""Run the scenario's probes and checks against a ready server, and collect results.

Probes run in the scenario's order (http, raw, websocket), each bounded by
`probe_s` and skipped once the run is cancelled.  Checks that depend on what
the server does in the background (its log lines, the modules it imported)
wait up to `log_s` for their minimums; the ones about the finished run (paths
left after the exit, log counts, imports) are collected once it is reaped.
"""

from __future__ import annotations

import time

from harness.procs.registry import wait_exit
from harness.runner.endpoints import Address
from harness.runner.launch import Launched
from harness.runner.observation import Check, Findings
from harness.runner.output import LineWatch
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


def probe(server: Launched, found: Findings, target: Address) -> None:
    """Every probe and running-server check, in order, into `found.checks`."""
    scenario = server.scenario
    limits = scenario.limits
    with ProbeSessions(target, limits.probe_s, server.cancel) as sessions:
        for http_probe in scenario.http:
            if server.cancel.is_set():
                return
            found.checks.append(sessions.run(http_probe))
    for raw in scenario.raw:
        if server.cancel.is_set():
            return
        found.checks.append(raw_check(target, raw, server.cancel))
    for socket_probe in scenario.websocket:
        if server.cancel.is_set():
            return
        found.checks.append(websocket_check(target, socket_probe, limits.probe_s))
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
    found.checks.extend(listening_check(e) for e in scenario.listening)
    found.checks.extend(
        path_check(e, server.plan.values) for e in scenario.paths if e.when == "running"
    )


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
    found.checks.extend(
        path_check(e, server.plan.values) for e in scenario.paths if e.when == "exited"
    )
    if found.ready or not awaited:
        found.checks.extend(
            _log_check(log, watch)
            for log, watch in zip(scenario.logs, server.log_watches, strict=True)
        )
    if found.ready and scenario.imports:
        records = read_import_log(import_log_path(server.plan.cwd))
        found.checks.extend(import_checks(scenario.imports, records, server.process.pid))
