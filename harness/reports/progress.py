"""Progress on long runs, shown: a live rich bar on a terminal, plain lines in CI and pipes."""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from rich.console import Console

from harness.engine.progress import ProgressSink
from harness.outcomes import Outcome
from harness.textsafety import escape

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
                f"[{self.done}/{self.total} {elapsed:6.1f}s] {cell.label}: {_result_text(result)}",
                highlight=False,
                markup=False,
            )

    def close(self) -> None:
        return None


class RichProgress:
    """A live progress bar with the cells currently building or running."""

    def __init__(self, console: Console) -> None:
        # Imported here: runs in CI and pipes never draw a bar.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console
        self._progress = Progress(
            TextColumn("[bold]cells"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("", total=0)
        self._active: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total)
        self._progress.start()

    def _refresh(self) -> None:
        shown = list(self._active.items())[-2:]
        text = " | ".join(f"{phase}: {label}" for label, phase in shown)
        self._progress.update(self._task, description=text)

    def cell_phase(self, cell: Cell, phase: str) -> None:
        with self._lock:
            self._active[cell.label] = phase
            self._refresh()

    def cell_finished(self, cell: Cell, result: CellResult) -> None:
        with self._lock:
            self._active.pop(cell.label, None)
            self._progress.advance(self._task)
            self._refresh()
            style = "green" if result.expected else "bold red"
            self._progress.console.print(
                f"[{style}]{'✓' if result.expected else '✗'}[/] {escape(cell.label)}: "
                f"{escape(_result_text(result))}",
                highlight=False,
            )

    def close(self) -> None:
        self._progress.stop()


def make_progress(console: Console) -> ProgressSink:
    interactive = console.is_terminal and not os.environ.get("CI")
    return RichProgress(console) if interactive else PlainProgress(console)
