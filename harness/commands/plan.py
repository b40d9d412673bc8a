"""`python -m harness plan`: the cells a run would execute, and their shards.

It takes `run`'s selection options and runs nothing.  `--json` prints the plan
as JSON on standard output, so a CI system can build its job matrix from it
(`matrix.shard` lists `1/N` ... `N/N`, ready for `--shard`); each cell carries
its estimated cost and its shard, the same split `run --shard` makes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.commands.common import (
    add_extras,
    add_harness_settings,
    add_scenario_dirs,
    extras_variants,
    harness_settings,
    notifier,
    scenario_dirs,
    with_extras,
)
from harness.engine.pipeline import Harness
from harness.errors import UsageError
from harness.plan.cells import Cell
from harness.plan.shards import ShardLoad, assign_shards, estimated_cost, shard_loads
from harness.scenario.loader import load_scenarios, select_scenarios
from harness.textsafety import escape

NAME = "plan"
HELP = "list the cells a run would execute and how --shard splits them"
EXAMPLES = ("python -m harness plan --scenario two-worker-startup --shards 4",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scenario_dirs(parser)
    parser.add_argument(
        "--scenario", action="append", default=[], metavar="ID", help="scenario id (repeatable)"
    )
    parser.add_argument("--versions", metavar="SELECTOR", help="as for `run`")
    parser.add_argument(
        "--python", action="append", default=[], metavar="X.Y|PATH", help="as for `run`"
    )
    add_extras(parser)
    parser.add_argument(
        "--shards", type=int, default=1, metavar="N", help="split into N shards (default: 1)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the plan as JSON on standard output"
    )
    add_harness_settings(parser)


def cell_json(cell: Cell, shard: int) -> dict[str, Any]:
    return {
        "scenario": cell.scenario.id,
        "package": cell.scenario.package,
        "version": str(cell.version),
        "python": cell.python.label,
        "platform": cell.platform,
        "extras": list(cell.cell_extras),
        "axes": dict(cell.axes),
        "resolution": cell.resolution,
        "runnable": cell.runnable,
        "skip_reason": None if cell.runnable else (cell.skip_reason or cell.python.reason),
        "estimated_cost_s": round(estimated_cost(cell), 2),
        "shard": shard,
    }


def plan_json(cells: Sequence[Cell], shard_of: Sequence[int], total: int) -> dict[str, Any]:
    loads = shard_loads(cells, shard_of, total)
    return {
        "shards": total,
        "matrix": {"shard": [f"{index}/{total}" for index in range(1, total + 1)]},
        "loads": [load.__dict__ for load in loads],
        "cells": [cell_json(cell, shard) for cell, shard in zip(cells, shard_of, strict=True)],
    }


def _print_table(console: Console, cells: Sequence[Cell], shard_of: Sequence[int]) -> None:
    table = Table(title="planned cells")
    columns = ("shard", "scenario", "version", "python", "platform", "variant", "cost", "run")
    for column in columns:
        table.add_column(column)
    for cell, shard in zip(cells, shard_of, strict=True):
        table.add_row(
            str(shard),
            escape(cell.scenario.id),
            str(cell.version),
            cell.python.label,
            cell.platform,
            escape(cell.variant) or "-",
            f"{estimated_cost(cell):.1f}s",
            "yes" if cell.runnable else escape(f"skip: {cell.skip_reason or cell.python.reason}"),
        )
    console.print(table)


def _print_loads(console: Console, loads: Sequence[ShardLoad]) -> None:
    for load in loads:
        console.print(
            f"shard {load.index}/{len(loads)}: {load.cells} cell(s), {load.runnable} runnable, "
            f"about {load.cost_s:.0f}s with a cold cache",
            highlight=False,
        )


def main(args: argparse.Namespace, console: Console) -> int:
    if args.shards < 1:
        raise UsageError("--shards must be at least 1")
    scenarios = select_scenarios(load_scenarios(scenario_dirs(args)), args.scenario)
    harness = Harness(harness_settings(args), notifier(console))
    cells = with_extras(
        harness.plan(scenarios, args.versions, args.python), extras_variants(args.extras)
    )
    shard_of = assign_shards(cells, args.shards)
    if args.json:
        print(json.dumps(plan_json(cells, shard_of, args.shards), indent=2))
        return 0
    _print_table(console, cells, shard_of)
    _print_loads(console, shard_loads(cells, shard_of, args.shards))
    return 0
