"""Judge a stored cell again against the scenario file at hand.

A results file records whether each cell was expected under the claims of the
scenario as it was then.  When `report` re-judges the claims from the
scenario files it is given, it must re-judge the cells' expectedness the same
way, or a cell stays "unexpected" next to a claim that now calls it
`confirmed`.  Only known failures depend on the claims; every other outcome
is expected or not by itself, and is kept as stored.
"""

from __future__ import annotations

import dataclasses

from harness.judge.claims import result_context
from harness.outcomes import Outcome
from harness.results import CellResult
from harness.scenario.model import Scenario

_REGRESSION = "regression: "


def rejudge_cell(scenario: Scenario, cell: CellResult) -> CellResult:
    """The cell with `expected` (and its reason's "regression:" mark) as the
    scenario's claims say now; unchanged when nothing depends on them."""
    if cell.outcome != Outcome.KNOWN_FAILURE or cell.scenario != scenario.id:
        return cell
    context = result_context(cell)
    signatures = [scenario.signature(name) for name in cell.signatures]
    known = [s for s in signatures if s is not None and s.applies_in(context)]
    if not known:
        return cell  # the scenario no longer knows the signature: keep the stored judgement
    expected = any(signature.claim.covers(cell.parsed_version) for signature in known)
    if expected == cell.expected:
        return cell
    reason = cell.reason.removeprefix(_REGRESSION)
    if not expected:
        reason = _REGRESSION + reason
    return dataclasses.replace(cell, expected=expected, reason=reason)
