"""The common tail of the commands that run cells: judge → results → write → show.

`run` and `gate` (and `card verify`) execute different cells for different
questions, then do the same steps in the same order; they are written once here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from harness.clock import utc_now
from harness.commands.output_paths import save_results, write_problem
from harness.engine.executor import ExecutionReport
from harness.engine.pipeline import Harness
from harness.errors import HarnessError
from harness.judge.claims import ClaimVerdict, judge_claims
from harness.judge.exit_codes import network_failures
from harness.plan.cells import Cell
from harness.procs.registry import REGISTRY
from harness.reports.outputs import ReportPaths, report_for_run, write_reports
from harness.reports.terminal import render_matrix
from harness.reports.terminal_overview import render_overview
from harness.results import RunResults, describe_scenario
from harness.scenario.model import Scenario
from harness.textsafety import escape


@dataclass
class Finished:
    """What a command executed, handed to the tail."""

    harness: Harness
    scenarios: Sequence[Scenario]
    report: ExecutionReport
    started_at: str
    command: Sequence[str]


@dataclass
class Conclusion:
    claims: list[ClaimVerdict]
    results: RunResults
    written: list[tuple[str, Path]] = field(default_factory=list)
    #: An output that could not be written where asked (the results were saved
    #: elsewhere, see `output_paths.save_results`); the command ends with it.
    problem: HarnessError | None = None

    def raise_problem(self, complete: bool) -> None:
        """End the command with the output problem, unless it was interrupted (130 wins)."""
        if self.problem is not None and complete:
            raise self.problem


def describe_run(harness: Harness, cells: Sequence[Cell], scenarios: Sequence[Scenario]) -> str:
    """The line a command prints before it executes: what, where, with what."""
    settings = harness.settings
    return (
        f"{len(cells)} cell(s) over {len(scenarios)} scenario(s) on {harness.platform}; "
        f"backend {settings.backend}, {settings.jobs} job(s), "
        f"cache {harness.cache_dir}, index {harness.index_config.describe()}"
        + "".join(f" ({note})" for note in harness.index.notes)
    )


def judge(finished: Finished) -> list[ClaimVerdict]:
    """Claims judged against every installable release (see `harness.judge.claims`)."""
    releases = finished.harness.releases_by_package(finished.scenarios)
    return judge_claims(finished.scenarios, finished.report.results, releases)


def build_results(
    finished: Finished, claims: Sequence[ClaimVerdict], notes: Sequence[str] = ()
) -> RunResults:
    """The results file's content, with what reports need to re-judge claims after
    a merge (the release lists) and to describe the scenarios."""
    scenarios = finished.scenarios
    releases = finished.harness.releases_by_package(scenarios) if scenarios else {}
    report = finished.report
    return RunResults(
        cells=report.results,
        claims=[claim.to_json() for claim in claims],
        complete=report.complete,
        started_at=finished.started_at,
        finished_at=utc_now(),
        command=list(finished.command),
        notes=([] if report.complete else ["interrupted: results are incomplete"]) + list(notes),
        releases={package: [str(v) for v in found] for package, found in releases.items()},
        requires_python={
            package: {
                str(release.version): str(release.requires_python)
                for release in finished.harness.installable_releases(package)
                if release.requires_python is not None
            }
            for package in releases
        },
        scenarios={scenario.id: describe_scenario(scenario) for scenario in scenarios},
        run_id=REGISTRY.run_id,
    )


def conclude(
    console: Console,
    finished: Finished,
    json_path: Path,
    paths: ReportPaths,
    notes: Sequence[str] = (),
    markdown_preface: str = "",
    matrix: str = "overview",
) -> Conclusion:
    """Judge, write the results and reports, and show the summary; in that order.

    `matrix`: "overview" (merged release ranges, `render_overview`) or "full"
    (every cell, `render_matrix`).
    """
    claims = judge(finished)
    results = build_results(finished, claims, notes)
    json_path, problem = save_results(json_path, results, finished.harness.cache_dir)
    reports = report_for_run(str(json_path), results, finished.scenarios)
    if matrix == "full":
        render_matrix(console, finished.report.results, claims, finished.report.complete)
    else:
        render_overview(console, reports, paths.html)
    console.print(f"results: {escape(str(json_path))}", highlight=False, soft_wrap=True)
    try:
        written = write_reports(reports, paths, markdown_preface)
    except OSError as exc:
        written = []
        problem = problem or write_problem("reports", Path(exc.filename or "?"), exc)
    for kind, path in written:
        console.print(f"{kind}: {escape(str(path))}", highlight=False, soft_wrap=True)
    failures = network_failures(finished.report.results)
    if failures:
        console.print(
            f"[bold red]error:[/] {len(failures)} environment(s) failed for network reasons "
            "(is the package index reachable?)"
        )
    return Conclusion(claims, results, written, problem)
