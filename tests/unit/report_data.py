"""Hand-made results for the report tests: the port-zero story on Linux, two Pythons."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from harness.reports.merge import merge_results
from harness.reports.model import Report, build_report
from harness.results import CellResult, RunResults
from harness.scenario.loader import load_scenarios
from harness.scenario.model import Scenario
from tests.conftest import FIXTURES, SCENARIOS

BUILTIN: dict[str, Scenario] = load_scenarios([SCENARIOS])
RELEASES = ["0.9.0", "0.10.0", "0.12.3", "0.13.3", "0.13.4", "0.13.10", "0.14.0", "0.15.0"]
VERSIONS = ["0.9.0", "0.10.0", "0.13.3", "0.13.4", "0.13.10", "0.14.0"]
PYTHONS = ["3.8", "3.11"]
CRASH = (FIXTURES / "linux" / "port-zero-startup-0.13.4-py3.8.txt").read_text()


def cell(
    version: str,
    python: str = "3.8",
    outcome: str | None = None,
    *,
    scenario: str = "port-zero-startup",
    platform: str = "linux",
    **changes: object,
) -> CellResult:
    """A port-zero cell: 0.13.4 to 0.13.10 crash with the ENOTCONN signature."""
    bad = version in ("0.13.4", "0.13.10") and scenario == "port-zero-startup"
    outcome = outcome or ("known-failure" if bad else "pass")
    result = CellResult(
        scenario=scenario,
        package="uvicorn",
        version=version,
        python=python,
        platform=platform,
        outcome=outcome,
        expected=True,
        reason="port0-getpeername-enotconn (fixed in 0.14.0): ready: exited with code 1"
        if outcome == "known-failure"
        else "every expectation held",
        signature="port0-getpeername-enotconn" if outcome == "known-failure" else None,
        duration_s=0.5,
        exit_code=1 if outcome == "known-failure" else 0,
        output_tail=CRASH if outcome == "known-failure" else "INFO:     Started server\n",
        python_full=f"{python}.18",
        checks=({"name": "ready", "ok": outcome == "pass", "detail": "detail"},),
    )
    return dataclasses.replace(result, **changes) if changes else result  # type: ignore[arg-type]


def all_cells() -> list[CellResult]:
    return [cell(v, p) for v in VERSIONS for p in PYTHONS] + [
        cell(v, p, scenario="two-worker-startup") for v in ("0.12.3", "0.14.0") for p in PYTHONS
    ]


def results(cells: list[CellResult], started: str = "2026-01-02T03:04:05Z") -> RunResults:
    return RunResults(
        cells=cells,
        started_at=started,
        finished_at=started,
        command=("python", "-m", "harness", "run"),
        releases={"uvicorn": list(RELEASES)},
    )


def report_of(*inputs: RunResults, scenarios: dict[str, Scenario] | None = None) -> Report:
    labelled = [(f"file{i}.json", r) for i, r in enumerate(inputs)]
    return build_report(merge_results(labelled), BUILTIN if scenarios is None else scenarios)


def write(path: Path, run: RunResults) -> Path:
    from harness.results import write_results

    write_results(path, run)
    return path


def evidence_of(page: str) -> dict[str, Any]:
    """The page's evidence, decoded as its script decodes it when a cell is opened:
    `{cell id: {"label": ..., "observations": [{field: value}, ...]}}`."""
    match = re.search(r'<script type="application/json" id="evidence-data">(.*?)</script>', page)
    assert match is not None, "no evidence block"
    data = json.loads(match.group(1))
    shared_fields = set(data["shared_fields"])

    def observation(values: list[Any]) -> dict[str, Any]:
        found = {}
        for name, value in zip(data["fields"], values, strict=True):
            if value is not None and name in shared_fields:
                value = data["shared"][value]
            if value is not None:
                found[name] = value
        return found

    return {
        ident: {"label": label, "observations": [observation(o) for o in observations]}
        for ident, (label, observations) in data["cells"].items()
    }
