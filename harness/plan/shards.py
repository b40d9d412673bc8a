"""Split a run's cells into N shards for CI fan-out, evenly by estimated cost.

CI shards run on different machines with different caches, so every shard job
must compute the same split on its own: the split is a pure function of the
planned cells (never of what happens to be cached, nor of their order).

Cells that share an environment (same release, Python, extras and constraints)
are kept together, so each shard builds an environment at most once; the
groups are dealt out longest-first to the least loaded shard (LPT), ties broken
by shard number and by the group's key.  With fewer groups than shards, single
cells are dealt instead, so no shard idles while another builds twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from harness.errors import UsageError
from harness.plan.cells import Cell

#: Rough seconds to build one environment (uv, warm index cache, cold env).
ENV_BUILD_S = 8.0
#: Extra seconds per extra: `standard` pulls uvloop, httptools, websockets, ...
EXTRA_BUILD_S = 6.0
#: Start, readiness and a clean stop of a server that works.
SERVER_RUN_S = 2.0
PROBE_S = 0.25
#: Log expectations wait for lines (often several workers starting).
LOG_WAIT_S = 2.0
#: Part of the readiness bound a cell is expected to spend (failures wait longer).
READY_SHARE = 0.05
#: Planning and writing a skipped cell.
SKIP_S = 0.01

GroupKey = Callable[[Cell], Hashable]

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard `index` of `total`, counted from 1 (`--shard 2/4`)."""

    index: int
    total: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        match = _SHARD_RE.match(text)
        if match is None:
            raise UsageError(f"--shard {text!r}: expected I/N, e.g. 2/4")
        index, total = int(match.group(1)), int(match.group(2))
        if total < 1 or not 1 <= index <= total:
            raise UsageError(f"--shard {text!r}: I must be between 1 and N (N >= 1)")
        return cls(index, total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def env_group(cell: Cell) -> Hashable:
    """Cells with one environment: the unit `run` deals out."""
    return (
        cell.scenario.package,
        str(cell.version),
        cell.python.label,
        cell.platform,
        cell.cell_extras,
        cell.constraints,
    )


def run_cost(cell: Cell) -> float:
    """Estimated seconds to run a cell once its environment exists."""
    if not cell.runnable:
        return SKIP_S
    scenario = cell.scenario
    cost = SERVER_RUN_S + PROBE_S * len(scenario.http) + READY_SHARE * scenario.limits.ready_s
    if scenario.logs:
        cost += LOG_WAIT_S
    return cost


def build_cost(cell: Cell) -> float:
    """Estimated seconds to build the cell's environment, as if nothing were cached."""
    if not cell.runnable:
        return 0.0
    return ENV_BUILD_S + EXTRA_BUILD_S * len(cell.cell_extras)


def estimated_cost(cell: Cell) -> float:
    """A cell's cost when it pays for its own environment."""
    return build_cost(cell) + run_cost(cell)


def _ms(seconds: float) -> int:
    """Costs are summed as whole milliseconds: float sums depend on their order."""
    return round(seconds * 1000)


@dataclass(frozen=True)
class _Unit:
    cells: tuple[int, ...]  # positions in the input
    cost_ms: int
    key: str


def _units(cells: Sequence[Cell], group_key: GroupKey, total: int) -> list[_Unit]:
    groups: dict[Hashable, list[int]] = {}
    for position, cell in enumerate(cells):
        groups.setdefault(group_key(cell), []).append(position)
    runnable_groups = sum(any(cells[p].runnable for p in members) for members in groups.values())
    if runnable_groups >= total:
        units = []
        for key, members in groups.items():
            build = max(_ms(build_cost(cells[p])) for p in members)
            cost = build + sum(_ms(run_cost(cells[p])) for p in members)
            units.append(_Unit(tuple(members), cost, repr(key)))
        return units
    return [
        _Unit((position,), _ms(estimated_cost(cell)), f"{group_key(cell)!r} {cell.label}")
        for position, cell in enumerate(cells)
    ]


def assign_shards(cells: Sequence[Cell], total: int, group_key: GroupKey = env_group) -> list[int]:
    """The shard (1..total) of each cell, in input order; independent of that order."""
    if total < 1:
        raise UsageError("the number of shards must be at least 1")
    shard_of = [1] * len(cells)
    loads = [0] * total
    units = sorted(_units(cells, group_key, total), key=lambda unit: (-unit.cost_ms, unit.key))
    for unit in units:
        target = min(range(total), key=lambda i: (loads[i], i))
        loads[target] += unit.cost_ms
        for position in unit.cells:
            shard_of[position] = target + 1
    return shard_of


def select_shard(
    cells: Sequence[Cell], shard: ShardSpec, group_key: GroupKey = env_group
) -> list[Cell]:
    """The cells of one shard, in plan order."""
    shard_of = assign_shards(cells, shard.total, group_key)
    return [cell for cell, index in zip(cells, shard_of, strict=True) if index == shard.index]


@dataclass(frozen=True)
class ShardLoad:
    index: int
    cells: int
    runnable: int
    cost_s: float


def shard_loads(cells: Sequence[Cell], shard_of: Sequence[int], total: int) -> list[ShardLoad]:
    """Per shard: cells, runnable cells and estimated seconds (each group built once)."""
    loads = []
    for index in range(1, total + 1):
        own = [cell for cell, s in zip(cells, shard_of, strict=True) if s == index]
        built: set[Hashable] = set()
        cost = 0.0
        for cell in own:
            key = env_group(cell)
            if key not in built:
                built.add(key)
                cost += build_cost(cell)
            cost += run_cost(cell)
        loads.append(ShardLoad(index, len(own), sum(c.runnable for c in own), round(cost, 2)))
    return loads
