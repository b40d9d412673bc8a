"""Results for chosen cells, from the cell cache when allowed, else run now.

Bisect and claim narrowing ask for a few cells at a time; this answers them
and keeps an honest account of what it cost: environments really built now
(a failed build counts: it was attempted), environments reused from the
environment cache, and observations reused from the cell cache (no server ran).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from harness.engine.executor import env_spec_for, skipped_result
from harness.engine.pipeline import Harness
from harness.engine.progress import ProgressSink
from harness.errors import InterruptedRun
from harness.outcomes import Outcome
from harness.plan.cells import Cell
from harness.results import CellResult


@dataclass
class Cost:
    """What answering cells has cost so far."""

    builds: int = 0
    failed_builds: int = 0
    envs_reused: int = 0
    from_cell_cache: int = 0
    servers_run: int = 0

    def describe(self) -> str:
        text = f"{self.builds} environment build(s)"
        if self.failed_builds:
            text += f" ({self.failed_builds} failed to install)"
        text += (
            f", {self.envs_reused} environment(s) reused, "
            f"{self.from_cell_cache} result(s) from the cell cache, "
            f"{self.servers_run} server run(s)"
        )
        return text

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class CellSource:
    """Answers cells for one harness; `reuse=False` always runs them."""

    def __init__(self, harness: Harness, progress: ProgressSink, reuse: bool = True) -> None:
        self.harness = harness
        self.reuse = reuse
        self.progress = progress
        self.cost = Cost()
        self._envs = harness.env_cache

    def cached(self, cell: Cell) -> CellResult | None:
        """The cell cache's answer for a cell, if any (costs a file read)."""
        if not self.reuse or not cell.runnable:
            return None
        spec = env_spec_for(cell, self._envs)
        env = self._envs.lookup(spec)
        return self.harness.cell_cache.lookup(
            cell.scenario,
            spec,
            cell.platform,
            env.resolved if env is not None else None,
            dict(cell.axes),
        )

    def observe(self, cells: Sequence[Cell], origin: str) -> list[CellResult]:
        """One result per cell, in order, each marked with `origin`.

        Raises InterruptedRun when the user interrupted before every cell ran.
        """
        answers: dict[int, CellResult] = {}
        to_run: list[tuple[int, Cell]] = []
        for position, cell in enumerate(cells):
            if not cell.runnable:
                answers[position] = skipped_result(cell)
                continue
            hit = self.cached(cell)
            if hit is not None:
                answers[position] = hit
                self.cost.from_cell_cache += 1
            else:
                to_run.append((position, cell))
        if to_run:
            report = self.harness.execute([cell for _, cell in to_run], self.progress)
            by_key = {result.key: result for result in report.results}
            for position, cell in to_run:
                result = by_key.get(cell.key)
                if result is None:
                    raise InterruptedRun("interrupted")
                answers[position] = result
                self._count(result)
            if not report.complete:
                raise InterruptedRun("interrupted")
        return [
            dataclasses.replace(answers[position], origin=origin) for position in range(len(cells))
        ]

    def _count(self, result: CellResult) -> None:
        if result.outcome == Outcome.INSTALL_ERROR:
            self.cost.builds += 1
            self.cost.failed_builds += 1
            return
        if result.env_reused is None:
            return  # skipped before anything was built (platform, requires-python, range)
        # A cell found not applicable in its environment (its --help) still built it.
        if result.exit_code is not None:
            self.cost.servers_run += 1
        if result.env_reused:
            self.cost.envs_reused += 1
        else:
            self.cost.builds += 1
