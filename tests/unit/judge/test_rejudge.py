"""A stored cell judged again by the scenario file at hand (`report --scenarios-dir`)."""

from __future__ import annotations

import dataclasses

from harness.judge.rejudge import rejudge_cell
from harness.results import CellResult
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS

PORT_ZERO = load_scenarios([SCENARIOS])["port-zero-startup"]


def stored(
    version: str, expected: bool, signature: str = "port0-getpeername-enotconn"
) -> CellResult:
    reason = ("" if expected else "regression: ") + f"{signature} (fixed in 0.14.0): ready: x"
    return CellResult(
        scenario=PORT_ZERO.id, package="uvicorn", version=version, python="3.8",
        platform="linux", outcome="known-failure", expected=expected, reason=reason,
        signature=signature,
    )  # fmt: skip


def test_expectedness_follows_the_claim_in_the_file() -> None:
    outdated = stored("0.13.4", expected=False)  # judged under an older, narrower claim
    fresh = rejudge_cell(PORT_ZERO, outdated)
    assert fresh.expected and not fresh.reason.startswith("regression: ")
    late = rejudge_cell(PORT_ZERO, stored("0.15.0", expected=True))
    assert not late.expected and late.reason.startswith("regression: ")


def test_what_does_not_depend_on_claims_is_kept() -> None:
    same = stored("0.13.4", expected=True)
    assert rejudge_cell(PORT_ZERO, same) is same
    unknown = stored("0.15.0", expected=True, signature="gone-from-the-file")
    assert rejudge_cell(PORT_ZERO, unknown) is unknown
    new_failure = dataclasses.replace(same, outcome="new-failure", signature=None, expected=False)
    assert rejudge_cell(PORT_ZERO, new_failure) is new_failure
    other = dataclasses.replace(same, scenario="another")
    assert rejudge_cell(PORT_ZERO, other) is other


def test_a_cell_matched_by_a_second_signature_inside_its_claim_is_expected() -> None:
    cell = dataclasses.replace(
        stored("0.29.0", expected=False), also_matched=("cli-ctrl-c-aborted",)
    )
    assert rejudge_cell(PORT_ZERO, cell).expected, "the second signature's claim covers 0.29.0"
