"""The bisect command's oracle: a release's mark, from its cells, answered by the
cell cache or run now, each probe printed as it comes back.

A release is one cell per variant of the scenario's matrix in which the
failure searched for can occur; `Probes` turns those cells into one mark for
the pure search (`harness.analyses.bisect`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from rich.console import Console

from harness.analyses.bisect import Mark, mark_of
from harness.analyses.bisect_setup import BisectSetup
from harness.engine.cellsource import CellSource
from harness.engine.executor import cell_context
from harness.plan.cells import Cell, cells_of, plan_cell
from harness.results import CellResult
from harness.textsafety import escape

#: The origin of a bisect probe's cells in the results.
ORIGIN = "bisect"


class Probes:
    """The bisect oracle: marks for indices, by observing their cells.

    A release is one cell per variant of the scenario's matrix (axes, extras,
    resolution) in which the failure searched for can occur; it is bad when
    any of them is, good when one is good and none bad, skipped when all are.
    """

    def __init__(self, plan: BisectSetup, source: CellSource, console: Console) -> None:
        self.plan = plan
        self.source = source
        self.console = console
        self.results: dict[int, CellResult] = {}
        self.every: dict[int, list[CellResult]] = {}
        self.ids = {s.id for s in plan.signatures}

    def cells(self, index: int) -> list[Cell]:
        release = self.plan.releases[index]
        base = plan_cell(
            self.plan.scenario, release.version, release, self.plan.python, self.plan.platform
        )
        variants = [cell for cell in cells_of(base) if self._may_fail(cell)]
        return variants or [base]

    def _may_fail(self, cell: Cell) -> bool:
        if self.plan.any_failure or not self.plan.signatures:
            return True
        context = cell_context(cell)
        return any(signature.applies_in(context) for signature in self.plan.signatures)

    def mark(self, result: CellResult) -> Mark:
        return mark_of(result, self.ids, self.plan.any_failure)

    def combine(self, results: Sequence[CellResult]) -> tuple[Mark, CellResult]:
        """The release's mark, and the cell that shows it best."""
        marks = [self.mark(result) for result in results]
        for wanted in (Mark.BAD, Mark.GOOD, Mark.SKIP):
            if wanted in marks:
                return wanted, results[marks.index(wanted)]
        raise ValueError("a release without cells")

    def every_result(self) -> list[CellResult]:
        return [result for index in sorted(self.every) for result in self.every[index]]

    def cached_marks(self) -> tuple[set[int], dict[int, Mark]]:
        """Releases whose every cell is in the cell cache: free to ask, and already
        known (their results join the evidence)."""
        free: set[int] = set()
        known: dict[int, Mark] = {}
        for index in range(len(self.plan.releases)):
            hits = [self.source.cached(cell) for cell in self.cells(index)]
            found = [dataclasses.replace(hit, origin=ORIGIN) for hit in hits if hit is not None]
            if hits and len(found) == len(hits):
                free.add(index)
                known[index], self.results[index] = self.combine(found)
                self.every[index] = found
        return free, known

    def __call__(self, batch: Sequence[int]) -> Mapping[int, Mark]:
        names = ", ".join(str(self.plan.releases[i].version) for i in batch)
        self.console.print(f"probing {names}", highlight=False)
        groups = {index: self.cells(index) for index in batch}
        answers = iter(self.source.observe([c for i in batch for c in groups[i]], ORIGIN))
        marks = {}
        for index in batch:
            self.every[index] = [next(answers) for _ in groups[index]]
            marks[index], result = self.combine(self.every[index])
            self.results[index] = result
            how = (
                f"cell cache {result.from_cell_cache}"
                if result.from_cell_cache
                else ("env reused" if result.env_reused else "built")
            )
            detail = result.signature or result.fingerprint or result.reason
            self.console.print(
                f"  {result.version:<10} {marks[index].value:<4}  {result.outcome}"
                f" ({escape((detail or '')[:80])}) {escape(f'[{how}]')}",
                highlight=False,
            )
        return marks
