"""Large runs are confirmed first (harness.commands.confirm)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, cast

import pytest
from rich.console import Console

from harness.commands import confirm
from harness.errors import UsageError
from harness.plan.cells import Cell


@dataclass
class FakeCell:
    runnable: bool = True


def _cells(count: int) -> list[Cell]:
    return [cast(Cell, FakeCell()) for _ in range(count)]


class Answering(Console):
    """A console whose user answers `answer` at the prompt."""

    def __init__(self, answer: str) -> None:
        super().__init__(file=io.StringIO())
        self.answer = answer

    def input(self, *args: Any, **kwargs: Any) -> str:
        return self.answer


@pytest.fixture(autouse=True)
def a_minute_per_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell costs a minute: 400 cells are 6.7 hours."""
    monkeypatch.setattr(confirm, "estimate_s", lambda cells: 60.0 * len(cells))


def test_small_runs_need_nothing() -> None:
    confirm.confirm_size(_cells(10), yes=False, console=Answering("n"))


@pytest.mark.parametrize("count", [confirm.MAX_CELLS + 1, 400])
def test_large_runs_are_refused_without_a_terminal(count: int) -> None:
    with pytest.raises(UsageError, match="pass --yes"):
        confirm.confirm_size(_cells(count), yes=False, console=Answering("y"))
    confirm.confirm_size(_cells(count), yes=True, console=Answering("n"))


@pytest.mark.parametrize(
    ("answer", "runs"), [("y", True), ("yes", True), ("n", False), ("", False)]
)
def test_on_a_terminal_the_user_is_asked(
    monkeypatch: pytest.MonkeyPatch, answer: str, runs: bool
) -> None:
    monkeypatch.setattr(confirm, "_interactive", lambda: True)
    if runs:
        confirm.confirm_size(_cells(2000), yes=False, console=Answering(answer))
    else:
        with pytest.raises(UsageError, match="not confirmed"):
            confirm.confirm_size(_cells(2000), yes=False, console=Answering(answer))
