"""Claims with several ranges, and bad ranges that are not contiguous, judged per range."""

from __future__ import annotations

from packaging.version import Version

from harness.judge.claims import CONFIRMED, CONTRADICTED, REFINED, UNVERIFIABLE, judge_signature
from harness.judge.ranges import ObservedRange, observed_ranges
from harness.results import CellResult
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS

SCENARIOS_BY_ID = load_scenarios([SCENARIOS])
CONTEXTVARS = SCENARIOS_BY_ID["contextvars-keepalive-leak"]
LEAK = CONTEXTVARS.signatures[0]
DEFAULT = {"contextvars": "--loop=asyncio"}
PORT_ZERO = SCENARIOS_BY_ID["port-zero-startup"]
LINUX = PORT_ZERO.signatures[0]
RELEASES = [
    Version(v)
    for v in ("0.14.0", "0.20.0", "0.30.6", "0.38.0", "0.39.0", "0.40.0", "0.44.0", "0.45.0",
              "0.50.0", "0.55.0")
]  # fmt: skip


def cell(version: str, outcome: str, axes: dict[str, str] | None = None) -> CellResult:
    return CellResult(
        scenario=CONTEXTVARS.id, package="uvicorn", version=version, python="3.11",
        platform="linux", outcome=outcome, expected=True, reason="",
        signature=LEAK.id if outcome == "known-failure" else None, axes=axes or DEFAULT,
    )  # fmt: skip


def judge(marks: str) -> tuple[str, str, list[ObservedRange]]:
    """`marks`: one letter per release of RELEASES: B bad, G pass, - not run."""
    cells = [
        cell(str(version), "known-failure" if mark == "B" else "pass")
        for version, mark in zip(RELEASES, marks, strict=True)
        if mark != "-"
    ]
    verdict = judge_signature(CONTEXTVARS, LEAK, cells, RELEASES)
    return verdict.verdict, verdict.detail, list(verdict.ranges)


def test_observed_ranges_are_split_by_a_pass() -> None:
    bad = [Version(v) for v in ("0.1", "0.2", "0.5")]
    good = [Version(v) for v in ("0.3", "0.6")]
    assert observed_ranges(bad, good) == [
        ObservedRange("0.1", "0.2", None, "0.3"),
        ObservedRange("0.5", "0.5", "0.3", "0.6"),
    ]
    assert observed_ranges([], good) == []
    assert ObservedRange("0.5", "0.6", None, "0.7").describe() == "… ✓ → 0.5 … 0.6 ✗ → 0.7 ✓"


def test_fixed_reverted_fixed_history_is_confirmed_range_by_range() -> None:
    verdict, detail, ranges = judge("BBBBGGGBBB")
    assert verdict == CONFIRMED
    assert detail == (
        "range fixed in 0.39.0: observed bad 0.14.0..0.38.0, good again at 0.39.0; "
        "range introduced in 0.45.0: observed bad 0.45.0..0.55.0"
    )
    assert [(r.first_bad, r.last_bad) for r in ranges] == [
        ("0.14.0", "0.38.0"), ("0.45.0", "0.55.0"),
    ]  # fmt: skip


def test_a_pass_inside_a_claimed_bad_range_contradicts_it() -> None:
    verdict, detail, ranges = judge("BGBBGGGBBB")
    assert verdict == CONTRADICTED
    assert "0.20.0 passes inside the claimed bad range, between 0.14.0 and 0.30.6" in detail
    assert len(ranges) == 3, "every observed range is kept, the extra one too"


def test_a_failure_inside_a_claimed_good_range_contradicts_it() -> None:
    verdict, detail, _ = judge("BBBBGBGBBB")
    assert verdict == CONTRADICTED
    assert "seen in 0.40.0, at or after the claimed fix 0.39.0" in detail


def test_the_release_before_a_claimed_fix_or_the_introduction_passing() -> None:
    verdict, detail, _ = judge("BBBGGGGBBB")
    assert verdict == CONTRADICTED and "0.38.0, the release before the claimed fix" in detail
    verdict, detail, _ = judge("BBBBGGGGBB")
    assert verdict == CONTRADICTED and "0.45.0, the claimed introduction, passes" in detail


def test_a_range_not_observed_leaves_the_claim_unverifiable() -> None:
    verdict, detail, _ = judge("------GBBB")
    assert verdict == UNVERIFIABLE
    assert "range fixed in 0.39.0: never seen in this run" in detail


def test_the_first_range_may_be_refined_below() -> None:
    verdict, detail, _ = judge("GBBBGGGBBB")
    assert verdict == REFINED
    assert detail.startswith("range fixed in 0.39.0: introduced in 0.20.0; observed bad")


def test_a_single_range_claim_over_a_non_contiguous_range_is_not_confirmed() -> None:
    def port_zero(version: str, outcome: str) -> CellResult:
        return CellResult(
            scenario=PORT_ZERO.id, package="uvicorn", version=version, python="3.8",
            platform="linux", outcome=outcome, expected=True, reason="",
            signature=LINUX.id if outcome == "known-failure" else None,
        )  # fmt: skip

    releases = [Version(v) for v in ("0.11.0", "0.12.0", "0.13.0", "0.13.4", "0.14.0")]
    cells = [port_zero("0.11.0", "known-failure"), port_zero("0.12.0", "pass"),
             port_zero("0.13.4", "known-failure"), port_zero("0.14.0", "pass")]  # fmt: skip
    verdict = judge_signature(PORT_ZERO, LINUX, cells, releases)
    assert verdict.verdict == CONTRADICTED
    assert "0.12.0 passes inside the claimed bad range, between 0.11.0 and 0.13.4" in verdict.detail
    assert (
        verdict.observed()
        == "… ✓ → 0.11.0 … 0.11.0 ✗ → 0.12.0 ✓; 0.12.0 ✓ → 0.13.4 … 0.13.4 ✗ → 0.14.0 ✓"
    )


def test_a_signature_matched_besides_the_first_counts_as_seen() -> None:
    also = CellResult(
        scenario=CONTEXTVARS.id, package="uvicorn", version="0.38.0", python="3.11",
        platform="linux", outcome="known-failure", expected=True, reason="",
        signature="another", also_matched=(LEAK.id,), axes=DEFAULT,
    )  # fmt: skip
    verdict = judge_signature(
        CONTEXTVARS, LEAK, [also, cell("0.39.0", "pass"), cell("0.45.0", "known-failure")],
        RELEASES,
    )  # fmt: skip
    assert verdict.verdict == CONFIRMED


def test_cells_of_another_variant_or_not_applicable_are_ignored() -> None:
    reset = {"contextvars": "--reset-contextvars"}
    skipped = CellResult(
        scenario=CONTEXTVARS.id, package="uvicorn", version="0.38.0", python="3.11",
        platform="linux", outcome="skip", expected=True, axes=reset,
        reason="not applicable: --reset-contextvars is not in uvicorn 0.38.0 --help",
    )  # fmt: skip
    cells = [
        skipped, cell("0.45.0", "pass", reset), cell("0.38.0", "known-failure"),
        cell("0.39.0", "pass"), cell("0.44.0", "pass"), cell("0.45.0", "known-failure"),
    ]  # fmt: skip
    verdict = judge_signature(CONTEXTVARS, LEAK, cells, RELEASES)
    assert verdict.verdict == CONFIRMED, verdict.detail
