"""`python -m harness report`: merge results files into one report.

Shards of one matrix, runs on Linux, macOS and Windows machines, runs on
different days: their cells are united by their key (scenario, package, version,
python, platform, extras, axes, resolution); two files that disagree on a cell make it a *conflict*,
shown and counted as unexpected.  Claims are judged again over the merged
cells for every scenario whose file is at hand, and so is whether each of its
cells is expected.  The exit code follows `run`:
0 all as expected, 1 an unexpected cell, conflict or contradicted claim.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from harness.commands.common import (
    add_matrix,
    add_report_outputs,
    add_scenario_dirs,
    report_paths,
)
from harness.commands.output_paths import check_command_outputs, write_problem
from harness.errors import EmptySelectionError
from harness.judge.exit_codes import run_exit_code
from harness.reports.merge import load_and_merge, merged_run_results, rejudged
from harness.reports.model import build_report
from harness.reports.outputs import write_reports
from harness.reports.terminal import render_matrix
from harness.reports.terminal_overview import render_overview
from harness.results import write_results
from harness.scenario.loader import BUILTIN_SCENARIOS_DIR, load_scenarios
from harness.scenario.model import Scenario
from harness.textsafety import escape

NAME = "report"
HELP = "merge results files; write HTML, JUnit and Markdown reports"
EXAMPLES = (
    "python -m harness report reports/results.json --html reports/index.html",
    "python -m harness report shard-*.json --json merged.json --markdown summary.md",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS.json",
        help="results files written by `run` (several: merged into one report)",
    )
    add_report_outputs(parser)
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the merged results file")
    add_matrix(parser)
    add_scenario_dirs(parser)


def _scenarios(args: argparse.Namespace, console: Console) -> dict[str, Scenario]:
    """Scenario files re-judge the claims; without the built-in folder (an installed
    harness run elsewhere), the verdicts stored in the results are shown."""
    if args.scenarios_dir:
        return load_scenarios(args.scenarios_dir)
    if not BUILTIN_SCENARIOS_DIR.is_dir():
        console.print("[dim]note: no scenarios folder here; showing the stored claims[/]")
        return {}
    return load_scenarios([BUILTIN_SCENARIOS_DIR])


def main(args: argparse.Namespace, console: Console) -> int:
    check_command_outputs(args, inputs=args.results)
    merged = load_and_merge(args.results)
    if not merged.cells:
        names = ", ".join(str(path) for path in args.results)
        raise EmptySelectionError(f"{names}: no cells to report")
    scenarios = _scenarios(args, console)
    # Cells are judged again by the scenario files at hand, like the claims.
    merged = rejudged(merged, scenarios)
    report = build_report(merged, scenarios)
    cells = report.effective_cells()
    if args.json is not None:
        claims = [claim.to_json() for claim in report.claims]
        try:
            write_results(args.json, merged_run_results(merged, claims))
        except OSError as exc:
            raise write_problem("--json", args.json, exc) from None
        console.print(f"merged results: {escape(str(args.json))}", highlight=False, soft_wrap=True)
    if args.matrix == "full":
        render_matrix(console, cells, report.claims, report.complete)
    else:
        render_overview(console, report, args.html)
    for note in report.notes:
        console.print(f"note: {escape(note)}", highlight=False)
    try:
        written = write_reports(report, report_paths(args))
    except OSError as exc:
        raise write_problem("reports", Path(exc.filename or "?"), exc) from None
    for kind, path in written:
        console.print(f"{kind}: {escape(str(path))}", highlight=False, soft_wrap=True)
    return run_exit_code(cells, report.claims, complete=True)
