"""Shards: deterministic, order-independent, every cell exactly once, balanced by cost."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.version import Version

from harness.commands.common import extras_variants, with_extras
from harness.commands.gate import gate_group
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.errors import UsageError
from harness.plan.cells import Cell
from harness.plan.shards import (
    ShardSpec,
    assign_shards,
    estimated_cost,
    select_shard,
    shard_loads,
)
from tests.unit.report_data import BUILTIN


def python(minor: str, found: bool = True) -> PythonRequest:
    if not found:
        return PythonRequest(minor, None, f"Python {minor} not found")
    return PythonRequest(minor, Interpreter(Path(f"/opt/py{minor}/bin/python"), Version(minor)))


def plan(versions: int = 8, pythons: tuple[str, ...] = ("3.8", "3.11")) -> list[Cell]:
    cells = []
    for scenario in BUILTIN.values():
        for n in range(versions):
            for minor in pythons:
                cells.append(Cell(scenario, Version(f"0.{10 + n}.0"), python(minor), "linux"))
    missing = python("3.13", found=False)
    cells.append(Cell(BUILTIN["port-zero-startup"], Version("0.14.0"), missing, "linux"))
    return cells


def test_shard_spec_parsing() -> None:
    assert ShardSpec.parse("2/4") == ShardSpec(2, 4)
    assert str(ShardSpec.parse(" 1 / 1 ")) == "1/1"
    for bad in ("0/4", "5/4", "1/0", "a/b", "3"):
        with pytest.raises(UsageError, match="--shard"):
            ShardSpec.parse(bad)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
def test_every_cell_lands_in_exactly_one_shard(total: int) -> None:
    cells = plan()
    shards = [select_shard(cells, ShardSpec(i, total)) for i in range(1, total + 1)]
    labels = sorted(c.label for shard in shards for c in shard)
    assert labels == sorted(c.label for c in cells)
    assert all(shard for shard in shards), "no shard is left empty when there is enough work"


def test_the_split_does_not_depend_on_the_order_of_the_plan() -> None:
    cells = plan()
    expected = dict(zip((c.label for c in cells), assign_shards(cells, 4), strict=True))
    for seed in range(5):
        shuffled = cells[:]
        random.Random(seed).shuffle(shuffled)
        got = dict(zip((c.label for c in shuffled), assign_shards(shuffled, 4), strict=True))
        assert got == expected


def test_cells_sharing_an_environment_share_a_shard() -> None:
    cells = plan()
    shard_of = assign_shards(cells, 4)
    by_env: dict[tuple[str, str], set[int]] = {}
    for cell, shard in zip(cells, shard_of, strict=True):
        by_env.setdefault((str(cell.version), cell.python.label), set()).add(shard)
    assert all(len(shards) == 1 for shards in by_env.values())


def test_balanced_by_cost_not_count() -> None:
    """A few expensive cells (extras build uvloop and httptools) against many cheap ones."""
    scenario = BUILTIN["port-zero-startup"]
    cheap = [Cell(scenario, Version(f"0.{n}.0"), python("3.8"), "linux") for n in range(10, 19)]
    heavy = [
        replace(Cell(scenario, Version(f"0.{n}.0"), python("3.11"), "linux"), extras=("a", "b"))
        for n in range(10, 13)
    ]
    cells = cheap + heavy
    shard_of = assign_shards(cells, 2)
    loads = shard_loads(cells, shard_of, 2)
    counts = [load.cells for load in loads]
    costs = [load.cost_s for load in loads]
    assert counts[0] != counts[1], "equal counts would mean the costs were ignored"
    assert abs(costs[0] - costs[1]) <= max(estimated_cost(c) for c in cells)
    by_count = [sum(estimated_cost(c) for c in part) for part in (cells[::2], cells[1::2])]
    assert abs(costs[0] - costs[1]) < abs(by_count[0] - by_count[1])


def test_more_shards_than_environments_deals_single_cells() -> None:
    scenario = BUILTIN["port-zero-startup"]
    other = BUILTIN["two-worker-startup"]
    cells = [Cell(s, Version("0.14.0"), python("3.8"), "linux") for s in (scenario, other)]
    assert sorted(assign_shards(cells, 2)) == [1, 2]
    assert select_shard(cells, ShardSpec(3, 3)) == []


def test_skipped_cells_cost_almost_nothing() -> None:
    skipped = Cell(BUILTIN["port-zero-startup"], Version("0.14.0"), python("3.13", False), "linux")
    ran = replace(skipped, python=python("3.8"))
    assert estimated_cost(skipped) < 0.1 < estimated_cost(ran)


def test_gate_shards_keep_baseline_and_candidate_together() -> None:
    cells = [
        Cell(s, Version(v), python(p), "linux")
        for s in BUILTIN.values()
        for v in ("0.13.3", "0.13.4")
        for p in ("3.8", "3.9", "3.11")
    ]
    shard_of = assign_shards(cells, 3, gate_group)
    pairs: dict[tuple[str, str], set[int]] = {}
    for cell, shard in zip(cells, shard_of, strict=True):
        pairs.setdefault((cell.scenario.id, cell.python.label), set()).add(shard)
    assert all(len(shards) == 1 for shards in pairs.values())
    assert sorted(set(shard_of)) == [1, 2, 3]


def test_extras_variants() -> None:
    assert extras_variants([]) == [None]
    assert extras_variants(["standard", "none", "standard"]) == [("standard",), ()]
    assert extras_variants(["b,a"]) == [("a", "b")]
    with pytest.raises(UsageError, match="is not an extra's name"):
        extras_variants(["st andard;"])
    cell = Cell(BUILTIN["port-zero-startup"], Version("0.14.0"), python("3.8"), "linux")
    both = with_extras([cell], [(), ("standard",)])
    assert [c.cell_extras for c in both] == [(), ("standard",)]
    assert both[1].label.endswith("py3.8 [standard]")
