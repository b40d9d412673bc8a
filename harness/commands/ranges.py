"""`python -m harness ranges RESULTS...`: the observed-ranges table from results files.

Prints a Markdown table of every signature's observed edges; with `--write FILE`
it replaces the generated block of that file (docs/catalog.md keeps one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from harness.atomic import write_text_atomic
from harness.commands.common import add_scenario_dirs, scenario_dirs
from harness.errors import EXIT_CLEAN, EmptySelectionError, UsageError
from harness.reports.merge import load_and_merge
from harness.reports.model import build_report
from harness.reports.ranges import range_rows, render_table, replace_block
from harness.scenario.loader import load_scenarios

NAME = "ranges"
HELP = "the observed-ranges table (Markdown) from results files"
EXAMPLES = ("python -m harness ranges reports/results.json --write docs/catalog.md",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS",
                        help="results files of `run` or `bisect`; their cells are merged and "
                        "each claim is judged over all of them")  # fmt: skip
    add_scenario_dirs(parser)
    parser.add_argument(
        "--regenerate",
        metavar="COMMAND",
        help="the command the table says regenerates it (default: this command)",
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="replace the generated block of FILE instead of printing",
    )


def main(args: argparse.Namespace, console: Console) -> int:
    report = build_report(load_and_merge(args.results), load_scenarios(scenario_dirs(args)))
    rows = range_rows(report)
    if not rows:
        raise EmptySelectionError("no claim verdicts in these results: nothing to tabulate")
    regenerate = args.regenerate or "python -m harness ranges " + " ".join(
        str(p) for p in args.results
    )
    if args.write is not None and not args.regenerate:
        regenerate += f" --write {args.write}"
    table = render_table(rows, regenerate)
    if args.write is None:
        console.print(table, markup=False, highlight=False, soft_wrap=True)
        return EXIT_CLEAN
    try:
        document = args.write.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{args.write}: cannot read ({exc.strerror or exc})") from None
    write_text_atomic(args.write, replace_block(document, table, str(args.write)))
    console.print(f"wrote {len(rows)} row(s) to {args.write}", highlight=False)
    return EXIT_CLEAN
