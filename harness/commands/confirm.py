"""A large run is confirmed first: `--yes`, or a yes at the prompt; never by accident.

`run --versions '>=0'` plans thousands of cells, hours of work and gigabytes of
environments; a typo should not start that silently, least of all on a CI
machine.  Above `MAX_CELLS` runnable cells or `MAX_ESTIMATE_S` of estimated
work (the cold-cache estimate `plan` prints, with each environment built
once), `run` asks on a terminal and refuses elsewhere (CI, no terminal)
unless `--yes` is given (see SECURITY.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from rich.console import Console

from harness.errors import UsageError
from harness.plan.cells import Cell
from harness.plan.shards import build_cost, run_cost

MAX_CELLS = 1000
MAX_ESTIMATE_S = 6 * 3600.0


def estimate_s(cells: Sequence[Cell]) -> float:
    """Seconds of work with a cold cache: each environment built once, every cell run."""
    builds: dict[tuple[object, ...], float] = {}
    total = 0.0
    for cell in cells:
        if not cell.runnable:
            continue
        total += run_cost(cell)
        key = (cell.scenario.package, cell.version, cell.python.label, cell.platform,
               cell.cell_extras, cell.resolution, cell.scenario.pins, cell.constraints)  # fmt: skip
        builds[key] = build_cost(cell)
    return total + sum(builds.values())


def _interactive() -> bool:
    return not os.environ.get("CI") and sys.stdin.isatty() and sys.stdout.isatty()


def confirm_size(cells: Sequence[Cell], yes: bool, console: Console) -> None:
    """Return when the run may start; raise `UsageError` (exit 3) when it may not."""
    runnable = sum(cell.runnable for cell in cells)
    seconds = estimate_s(cells)
    if yes or (runnable <= MAX_CELLS and seconds <= MAX_ESTIMATE_S):
        return
    what = f"{runnable} cells, about {seconds / 3600:.1f} hours of work with a cold cache"
    limits = f"more than {MAX_CELLS} cells or {MAX_ESTIMATE_S / 3600:g} hours"
    if not _interactive():
        raise UsageError(
            f"this run is large ({what}; {limits} needs confirming): narrow it with "
            "--scenario, --versions or --python, or pass --yes"
        )
    try:
        answer = console.input(f"This run is large: {what}. Run it? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("not confirmed: nothing was run (pass --yes to skip the question)")
