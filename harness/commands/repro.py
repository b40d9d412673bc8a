"""`python -m harness repro RESULTS.json CELL`: a script that recreates one cell alone.

CELL is `SCENARIO:VERSION:PYTHON[:PLATFORM[:VARIANT...]]` (see
`harness.reports.repro`).  The scenario file is found where the run recorded
it, else in --scenarios-dir (default: the built-in scenarios).  The script is
printed, or written with --write; PowerShell for Windows cells, sh otherwise
(--shell to choose).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from harness.atomic import write_text_atomic
from harness.commands.common import add_scenario_dirs, scenario_dirs
from harness.errors import ScenarioError, UsageError
from harness.reports.repro import cell_name, find_cell, script_for
from harness.results import load_results
from harness.scenario.loader import load_scenario, load_scenarios
from harness.scenario.model import Scenario
from harness.textsafety import escape

NAME = "repro"
HELP = "write a standalone script that reproduces one cell of a results file"
EXAMPLES = ("python -m harness repro reports/results.json port-zero-startup:0.13.4:3.8:linux",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, metavar="RESULTS.json")
    parser.add_argument(
        "cell",
        metavar="CELL",
        help="SCENARIO:VERSION:PYTHON[:PLATFORM[:VARIANT...]], "
        "e.g. port-zero-startup:0.13.4:3.8:linux",
    )
    add_scenario_dirs(parser)
    parser.add_argument("--write", type=Path, metavar="PATH", help="write the script here")
    parser.add_argument(
        "--shell",
        choices=("sh", "ps1"),
        help="sh or PowerShell (default: PowerShell for Windows cells)",
    )


def _scenario(args: argparse.Namespace, scenario_id: str, recorded: object) -> Scenario:
    if isinstance(recorded, str) and recorded and not args.scenarios_dir:
        path = Path(recorded)
        if path.is_file():
            try:
                scenario = load_scenario(path)
            except ScenarioError:
                scenario = None
            if scenario is not None and scenario.id == scenario_id:
                return scenario
    known = load_scenarios(scenario_dirs(args))
    if scenario_id not in known:
        raise UsageError(
            f"scenario {scenario_id!r} not found (give its folder with --scenarios-dir)"
        )
    return known[scenario_id]


def main(args: argparse.Namespace, console: Console) -> int:
    results = load_results(args.results)
    cell = find_cell(results.cells, args.cell)
    info = results.scenarios.get(cell.scenario, {})
    scenario = _scenario(args, cell.scenario, info.get("source"))
    script = script_for(cell, scenario, args.shell)
    if args.write is None:
        console.print(script.text, highlight=False, markup=False, soft_wrap=True, end="")
        return 0
    write_text_atomic(args.write, script.text)
    console.print(
        f"{escape(cell_name(cell))}: {escape(str(args.write))} ({cell.outcome})", highlight=False
    )
    return 0
