"""Progress on long runs, shown: a live rich bar on a terminal, plain lines in CI and pipes.

Both draw a finished cell with its outcome's mark, as the summary does: a known
bug is a yellow ✗ in the progress and in the summary alike.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from harness.engine.progress import ProgressSink
from harness.outcomes import Outcome

if TYPE_CHECKING:
    from harness.plan.cells import Cell
    from harness.results import CellResult


def _result_text(result: CellResult) -> str:
    text: str = result.outcome.value
    if result.signature:
        text += f" ({result.signature})"
    elif result.fingerprint:
        text += f" ({result.fingerprint[:70]})"
    elif result.outcome == Outcome.ERROR:
        text += f" ({result.reason[:90]})"
    if not result.expected:
        text += " UNEXPECTED"
    return text


def _mark(result: CellResult) -> str:
    """The outcome's mark, as the summary draws it (a known bug is ✗, never ✓)."""
    return result.outcome.style.symbol


class PlainProgress:
    """One line per finished cell: readable in CI logs and when piped."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()

    def start(self, total: int) -> None:
        self.total = total
        self.console.print(f"running {total} cell(s)", highlight=False)

    def cell_phase(self, cell: Cell, phase: str) -> None:
        if phase.startswith("building"):
            self.console.print(f"  {phase}: {cell.label}", highlight=False)

    def cell_finished(self, cell: Cell, result: CellResult) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.monotonic() - self._started
            self.console.print(
                f"[{self.done}/{self.total} {elapsed:6.1f}s] {_mark(result)} {cell.label}: "
                f"{_result_text(result)}",
                highlight=False,
                markup=False,
            )

    def close(self) -> None:
        return None


class _ActivityProgress(Progress):
    """A progress bar with what is building or running on a line of its own below,
    so the counts, elapsed time and ETA always fit (80 columns included)."""

    activity = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        if self.activity:
            line = Text(self.activity, style="dim", no_wrap=True)
            line.truncate(max(self.console.width - 1, 10), overflow="ellipsis")
            yield line


class RichProgress:
    """A live bar (done/total, elapsed, ETA) and the cells currently building or
    running; finished cells are listed above it only when they did not pass."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = _ActivityProgress(
            TextColumn("[bold]cells"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            # Cells finish in bursts (environments first); a long window steadies the ETA.
            speed_estimate_period=300,
        )
        self._task = self._progress.add_task("", total=0)
        self._active: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total)
        self._progress.start()

    def _refresh(self) -> None:
        shown = list(self._active.items())[-2:]
        more = len(self._active) - len(shown)
        text = " | ".join(f"{phase}: {label}" for label, phase in shown)
        self._progress.activity = text + (f" (+{more} more)" if more > 0 else "")
        self._progress.refresh()

    def cell_phase(self, cell: Cell, phase: str) -> None:
        with self._lock:
            self._active[cell.label] = phase
            self._refresh()

    def cell_finished(self, cell: Cell, result: CellResult) -> None:
        with self._lock:
            self._active.pop(cell.label, None)
            self._progress.advance(self._task)
            self._refresh()
            if result.outcome == Outcome.PASS and result.expected:
                return
            style = result.outcome.style
            line = Text(f"{style.symbol} ", style=style.colour)
            line.append(f"{cell.label}: {_result_text(result)}")
            if not result.expected:
                line.stylize("bold red")
            self._progress.console.print(line, highlight=False)

    def close(self) -> None:
        self._progress.stop()


def make_progress(console: Console) -> ProgressSink:
    interactive = console.is_terminal and not os.environ.get("CI")
    return RichProgress(console) if interactive else PlainProgress(console)
