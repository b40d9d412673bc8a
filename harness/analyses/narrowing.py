"""Pin the claim edges a sparse selection leaves open, with a few extra cells.

A run over `minors` sees 0.12.3 pass and 0.13.4 fail with a signature: the bug
came in somewhere in 0.13.0..0.13.4.  For every such gap beside a signature's
observations, per Python row, a binary search over the releases in the gap
(answered from the cell cache when it can be) pins the edge in O(log gap)
cells.  The extra cells join the results marked `origin: narrowing` (and with
`from_cell_cache` when reused), so each claim verdict can say which
observations it rests on.  They inform verdicts; they do not gate the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from packaging.version import Version

from harness.analyses.bisect import EdgeSearch, Mark, mark_of
from harness.engine.cellsource import CellSource
from harness.engine.executor import ExecutionReport
from harness.engine.pipeline import Harness
from harness.engine.progress import ProgressSink
from harness.envs.index import Release
from harness.envs.interpreters import PythonRequest
from harness.errors import InterruptedRun
from harness.plan.cells import Cell, CellKey, Variant, plan_cell, with_variant
from harness.results import CellResult
from harness.scenario.model import Scenario, Signature

ORIGIN = "narrowing"


class CellAnswers(Protocol):
    """Where narrowing gets results: `CellSource` (cell cache, else run now)."""

    def cached(self, cell: Cell) -> CellResult | None: ...

    def observe(self, cells: Sequence[Cell], origin: str) -> list[CellResult]: ...


@dataclass
class _Gap:
    """One open edge: `releases[0]` and `releases[-1]` are observed, the rest not."""

    scenario: Scenario
    request: PythonRequest
    signature: Signature
    releases: list[Release]
    search: EdgeSearch
    #: The row's matrix values (axes, extras, resolution): a row is one of them.
    variant: Variant = ((), None, "latest")


def _row_gaps(
    scenario: Scenario,
    signature: Signature,
    request: PythonRequest,
    observed: dict[Version, Mark],
    releases: Sequence[Release],
    variant: Variant = ((), None, "latest"),
) -> list[_Gap]:
    """The gaps between a row's observations where the mark flips (good to bad,
    bad to good): every edge of every observed bad range."""
    assert request.interpreter is not None
    python = request.interpreter.version
    decisive = sorted((v, m) for v, m in observed.items() if m in (Mark.GOOD, Mark.BAD))
    gaps = []
    for (low, old), (high, new) in itertools.pairwise(decisive):
        if old is new:
            continue
        span = [r for r in releases if low <= r.version <= high and r.supports_python(python)]
        if len(span) <= 2:
            continue
        search = EdgeSearch(0, len(span) - 1, old, new, len(span))
        for index, release in enumerate(span):
            if release.version in observed:  # e.g. an install error: do not ask again
                search.record(index, observed[release.version])
        gaps.append(_Gap(scenario, request, signature, span, search, variant))
    return gaps


def find_gaps(
    scenarios: Sequence[Scenario],
    cells: Sequence[Cell],
    results: Sequence[CellResult],
    releases: dict[str, list[Release]],
    platform: str,
) -> list[_Gap]:
    """Every open edge of every claimed signature that applies on this platform."""
    requests = {
        (cell.scenario.id, cell.python.label, cell.variant): (cell.python, _variant_of(cell))
        for cell in cells
        if cell.runnable
    }
    gaps: list[_Gap] = []
    for scenario in scenarios:
        for signature in scenario.signatures:
            if not signature.applies_to(platform) or signature.claim.empty:
                continue
            for (scenario_id, python, label), (request, variant) in sorted(
                requests.items(), key=lambda item: item[0]
            ):
                if scenario_id != scenario.id:
                    continue
                observed = {
                    result.parsed_version: mark_of(result, {signature.id})
                    for result in results
                    if result.scenario == scenario.id
                    and result.python == python
                    and result.platform == platform
                    and result.variant == label
                }
                gaps += _row_gaps(
                    scenario, signature, request, observed, releases.get(scenario.package, []),
                    variant,
                )  # fmt: skip
    return gaps


def narrow(
    source: CellAnswers,
    scenarios: Sequence[Scenario],
    cells: Sequence[Cell],
    results: Sequence[CellResult],
    releases: dict[str, list[Release]],
    platform: str,
) -> list[CellResult]:
    """Run the searches of every gap together, a round at a time; the extra cells."""
    gaps = find_gaps(scenarios, cells, results, releases, platform)
    extra: dict[CellKey, CellResult] = {}
    free = {
        id(gap): {
            i
            for i, release in enumerate(gap.releases)
            if source.cached(_cell(gap, release, platform)) is not None
        }
        for gap in gaps
    }
    while True:
        wanted: list[tuple[_Gap, int, Cell]] = []
        for gap in gaps:
            probe = gap.search.next_probe(free[id(gap)])
            if probe is not None:
                wanted.append((gap, probe, _cell(gap, gap.releases[probe], platform)))
        if not wanted:
            break
        fresh = {cell.key: cell for _, _, cell in wanted if cell.key not in extra}
        for result in source.observe(list(fresh.values()), ORIGIN):
            extra[result.key] = result
        for gap, probe, cell in wanted:
            gap.search.record(probe, mark_of(extra[cell.key], {gap.signature.id}))
    return list(extra.values())


@dataclass(frozen=True)
class Narrowed:
    """The run's report with the narrowing cells added, and a line saying what was done."""

    report: ExecutionReport
    note: str | None


def narrow_run(
    harness: Harness,
    scenarios: Sequence[Scenario],
    cells: Sequence[Cell],
    report: ExecutionReport,
    progress: ProgressSink,
    reuse: bool = True,
) -> Narrowed:
    """Add the cells that pin the claim edges the run's selection left open."""
    if not report.complete:
        return Narrowed(report, None)
    releases = {s.package: harness.installable_releases(s.package) for s in scenarios}
    source = CellSource(harness, progress, reuse=reuse)
    try:
        extra = narrow(source, scenarios, cells, report.results, releases, harness.platform)
    except InterruptedRun:
        interrupted = ExecutionReport(report.results, complete=False)
        return Narrowed(interrupted, "interrupted while pinning claim edges")
    note = None
    if extra:
        versions = ", ".join(sorted({cell.version for cell in extra}, key=Version))
        note = (
            f"pinned claim edges with {len(extra)} extra cell(s) ({versions}): "
            f"{source.cost.describe()}"
        )
    return Narrowed(ExecutionReport([*report.results, *extra], complete=True), note)


def _cell(gap: _Gap, release: Release, platform: str) -> Cell:
    cell = plan_cell(gap.scenario, release.version, release, gap.request, platform)
    return with_variant(cell, *gap.variant)


def _variant_of(cell: Cell) -> Variant:
    return (cell.axes, cell.extras, cell.resolution)
