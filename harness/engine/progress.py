"""What the engine tells about a run while it goes: the cells started, phases, results.

The engine only calls a `ProgressSink`; how it is shown (a live bar, plain
lines, nothing) is chosen by the command (see `harness.reports.progress`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from harness.plan.cells import Cell
    from harness.results import CellResult


class ProgressSink(Protocol):
    def start(self, total: int) -> None: ...
    def cell_phase(self, cell: Cell, phase: str) -> None: ...
    def cell_finished(self, cell: Cell, result: CellResult) -> None: ...
    def close(self) -> None: ...


class SilentProgress:
    """Shows nothing: for callers that print their own line per cell (bisect)."""

    def start(self, total: int) -> None:
        return None

    def cell_phase(self, cell: Cell, phase: str) -> None:
        return None

    def cell_finished(self, cell: Cell, result: CellResult) -> None:
        return None

    def close(self) -> None:
        return None
