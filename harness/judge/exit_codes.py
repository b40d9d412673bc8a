"""The one place a finished run becomes an exit code.

Every command (run, report, gate, bisect, card verify) reduces what it saw
to the same few facts and asks `decide`; the precedence (interrupted, then
usage, then infrastructure, then regression) is written down only here, so a
CI gate can always tell a broken index (2) from a regression (1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.errors import (
    EXIT_CLEAN,
    EXIT_INFRASTRUCTURE,
    EXIT_INTERRUPTED,
    EXIT_REGRESSION,
    EXIT_USAGE,
    EmptySelectionError,
)
from harness.judge.claims import CONTRADICTED, ClaimVerdict
from harness.outcomes import Outcome
from harness.results import CellResult

_NETWORK_HINTS = re.compile(
    r"Failed to fetch|failed to connect|Could not connect|Connection refused|"
    r"Temporary failure in name resolution|dns error|Network is unreachable|"
    r"Max retries exceeded|NewConnectionError|ConnectTimeout|"
    r"Network connectivity is disabled|not found in the cache|offline: only cached packages",
    re.IGNORECASE,
)


def network_failures(cells: Sequence[CellResult]) -> list[CellResult]:
    """Install errors whose output says the index or network was the problem."""
    return [
        cell
        for cell in cells
        if cell.outcome == Outcome.INSTALL_ERROR
        and _NETWORK_HINTS.search(cell.reason + cell.output_tail)
    ]


def decide(
    *,
    complete: bool = True,
    usage: bool = False,
    infrastructure: bool = False,
    regression: bool = False,
) -> int:
    """The documented exit code (0, 1, 2, 3, 130) from what a command observed."""
    if not complete:
        return EXIT_INTERRUPTED
    if usage:
        return EXIT_USAGE
    if infrastructure:
        return EXIT_INFRASTRUCTURE
    if regression:
        return EXIT_REGRESSION
    return EXIT_CLEAN


def run_exit_code(
    cells: Sequence[CellResult], claims: Sequence[ClaimVerdict], complete: bool
) -> int:
    """A run's exit code: its gating cells and its claims.  A run in which every
    cell was skipped ran nothing, which must never look green (a usage error)."""
    if complete and not any(Outcome(cell.outcome).ran for cell in cells):
        reasons = sorted({cell.reason for cell in cells})
        raise EmptySelectionError(f"nothing ran: every cell was skipped ({'; '.join(reasons)})")
    # Cells added to pin a claim's edge inform the verdicts; only the selection gates.
    return decide(
        complete=complete,
        infrastructure=bool(network_failures(cells))
        or any(Outcome(cell.outcome).infrastructure for cell in cells),
        regression=any(not cell.expected and cell.gates for cell in cells)
        or any(claim.verdict == CONTRADICTED for claim in claims),
    )
