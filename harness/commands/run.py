"""Run scenarios against server releases and Pythons; print which releases are safe.

Each cell builds (or reuses) one environment, starts the real server on
127.0.0.1, probes it and matches known failure signatures.  The summary shows,
per scenario, the release ranges with their outcomes.  An ad-hoc run writes its
own results file under reports/runs/ (named by time and selection) and prints
where; `--json PATH` names the file instead (`nox -s regress` writes
reports/results.json).  A run in which nothing would run writes nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from harness.analyses.narrowing import narrow_run
from harness.clock import utc_now
from harness.commands.common import (
    add_extras,
    add_harness_settings,
    add_matrix,
    add_report_outputs,
    add_scenario_dirs,
    add_shard,
    extras_variants,
    harness_settings,
    notifier,
    report_paths,
    scenario_dirs,
    with_extras,
)
from harness.commands.conclusion import Finished, conclude, describe_run
from harness.commands.confirm import MAX_CELLS, MAX_ESTIMATE_S, confirm_size
from harness.commands.output_paths import check_command_outputs
from harness.engine.pipeline import Harness
from harness.errors import EXIT_CLEAN, EXIT_INTERRUPTED, EmptySelectionError, UsageError
from harness.judge.exit_codes import run_exit_code
from harness.plan.cells import Cell
from harness.plan.shards import select_shard
from harness.reports.progress import make_progress
from harness.scenario.loader import load_scenarios, select_scenarios
from harness.scenario.model import RESOLUTIONS
from harness.targets.registry import parse_platforms
from harness.textsafety import escape

NAME = "run"
HELP = "run scenarios against server releases; print which releases are safe"
EXAMPLES = (
    "python -m harness run --scenario port-zero-startup --versions 0.13.3,0.13.4",
    "python -m harness run --python 3.12 --html reports/py312.html",
)
#: Where ad-hoc runs keep their results (one file each): never the main job's file.
RUNS_DIR = Path("reports") / "runs"
MAX_REPEAT = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")
_NAME_CHARS = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scenario_dirs(parser)
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="ID",
        help="scenario id (repeatable; default: all)",
    )
    parser.add_argument(
        "--versions",
        metavar="SELECTOR",
        help="e.g. 0.13.3,0.13.4 | '>=0.12,<0.15' | latest | latest-3 | minors "
        "(default: each scenario's own set)",
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="X.Y|PATH",
        help="interpreter (repeatable; default: the oldest and newest that each release supports)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run every cell N times; cells whose outcomes differ are marked flaky "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="NAME",
        help="where cells run: the host's platform, or windows-wine (Windows CPython under "
        "Wine); repeatable or comma-separated (default: the host)",
    )
    parser.add_argument(
        "--resolution",
        action="append",
        default=[],
        metavar="MODE",
        help="how environments are resolved: latest (today's dependencies) or release-date "
        "(as of each release's upload date); repeatable or comma-separated "
        "(default: each scenario's own, else latest)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"results file (default: a new file under {RUNS_DIR}/ named by time and "
        "selection; `nox -s regress` writes reports/results.json)",
    )
    add_matrix(parser)
    add_extras(parser)
    add_shard(parser)
    add_report_outputs(parser)
    parser.add_argument(
        "--no-narrow",
        action="store_true",
        help="do not add cells to pin claim edges the selection leaves open "
        "(e.g. 0.12.3 passes, 0.13.4 fails: which 0.13.x introduced it?)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="run every narrowing cell now instead of reusing the cell cache",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="run even a large selection without asking (see `confirm`: more than "
        f"{MAX_CELLS} cells or {MAX_ESTIMATE_S / 3600:g} hours of estimated work)",
    )
    add_harness_settings(parser)


def parse_resolutions(texts: list[str]) -> list[str]:
    """`--resolution latest,release-date` (or repeated): validated, in order, once each."""
    modes: list[str] = []
    for text in texts:
        for item in text.split(","):
            mode = item.strip()
            if mode not in RESOLUTIONS:
                known = ", ".join(RESOLUTIONS)
                raise UsageError(f"--resolution {mode!r}: choose from {known}")
            if mode not in modes:
                modes.append(mode)
    return modes


def results_path(args: argparse.Namespace, started_at: str, folder: Path = RUNS_DIR) -> Path:
    """`reports/runs/20260102T030405Z-port-zero-startup-0.13.4-py3.8.json`: an
    ad-hoc run's own file, which never replaces another run's."""
    parts = [
        "+".join(args.scenario) or "all",
        args.versions or "default",
        *(f"py{python}" for python in args.python),
        *args.platform,
        *([f"shard{args.shard.index}of{args.shard.total}"] if args.shard else []),
    ]
    selection = _UNSAFE.sub("_", "-".join(parts)).strip("_.")[:_NAME_CHARS]
    stem = f"{started_at.replace('-', '').replace(':', '')}-{selection}"
    path = folder / f"{stem}.json"
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.json"
    return path


def nothing_to_run(cells: Sequence[Cell]) -> str | None:
    """Why no cell of the plan can run (each distinct reason once), or None."""
    if any(cell.runnable for cell in cells):
        return None
    reasons = dict.fromkeys(cell.skip_reason or cell.python.reason for cell in cells)
    return f"nothing ran: every cell would be skipped ({'; '.join(filter(None, reasons))})"


def main(args: argparse.Namespace, console: Console) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if not 1 <= args.repeat <= MAX_REPEAT:
        raise UsageError(f"--repeat must be between 1 and {MAX_REPEAT}, got {args.repeat}")
    check_command_outputs(args)
    scenarios = select_scenarios(load_scenarios(scenario_dirs(args)), args.scenario)
    resolutions = parse_resolutions(args.resolution)
    settings = harness_settings(args)
    settings.repeat = args.repeat
    settings.platforms = parse_platforms(args.platform)
    harness = Harness(settings, notifier(console))
    cells = with_extras(
        harness.plan(scenarios, args.versions, args.python, resolutions),
        extras_variants(args.extras),
    )
    if args.backend != "uv" and any(cell.resolution == "release-date" for cell in cells):
        raise UsageError(
            "release-date resolution needs --backend uv (pip has no --exclude-newer); "
            "pass --resolution latest to run with virtualenv"
        )
    if why := nothing_to_run(cells):  # the whole plan: a shard may be idle, not a plan
        raise EmptySelectionError(why)  # before anything is printed or written
    idle_shard = False
    if args.shard is not None:
        planned = sum(cell.runnable for cell in cells)
        cells = select_shard(cells, args.shard)
        idle_shard = not any(cell.runnable for cell in cells)
        console.print(
            f"shard {args.shard}: {len(cells)} of the plan's cells "
            f"({sum(cell.runnable for cell in cells)} of {planned} runnable)",
            highlight=False,
        )
    confirm_size(cells, args.yes, console)
    started_at = utc_now()
    console.print(escape(describe_run(harness, cells, scenarios)), highlight=False)
    report = harness.execute(cells, make_progress(console))
    if not args.no_narrow and args.shard is None:  # narrowing needs every shard's evidence
        narrowed = narrow_run(
            harness, scenarios, cells, report, make_progress(console), reuse=not args.fresh
        )
        report = narrowed.report
        if narrowed.note:
            console.print(escape(narrowed.note), highlight=False)
    command = ["python", "-m", "harness", *sys.argv[1:]]
    finished = Finished(harness, scenarios, report, started_at, command)
    json_path = args.json or results_path(args, started_at)
    conclusion = conclude(console, finished, json_path, report_paths(args), matrix=args.matrix)
    conclusion.raise_problem(report.complete)
    claims = conclusion.claims
    if args.shard is None:
        return run_exit_code(report.results, claims, report.complete)
    # A shard sees part of each claim's evidence: claims are judged when the shards'
    # results are merged (`report`); a shard's own code says whether its cells held.
    console.print("claims are judged when the shards are merged (python -m harness report)")
    if idle_shard:  # the plan's runnable cells are all in other shards
        return EXIT_CLEAN if report.complete else EXIT_INTERRUPTED
    return run_exit_code(report.results, [], report.complete)
