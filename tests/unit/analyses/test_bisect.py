"""The bisect search over a fake oracle: edges, probe counts, holes, ends, non-monotone."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.analyses.bisect import (
    BAND_FAILURES,
    BisectResult,
    Edge,
    Mark,
    bisect,
    budget,
    coarse_points,
    mark_of,
)
from harness.results import CellResult

B, G, S = Mark.BAD, Mark.GOOD, Mark.SKIP


class Oracle:
    """Answers from a fixed list of marks and records every batch it was asked."""

    def __init__(self, marks: Sequence[Mark]) -> None:
        self.marks = list(marks)
        self.batches: list[tuple[int, ...]] = []

    def __call__(self, batch: Sequence[int]) -> Mapping[int, Mark]:
        self.batches.append(tuple(batch))
        return {i: self.marks[i] for i in batch}

    @property
    def asked(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


def pattern(text: str) -> list[Mark]:
    return [{"B": B, "G": G, "S": S}[c] for c in text]


def bound(result: BisectResult) -> float:
    """The cost target: 2*log2(n)+4 per edge found, plus the coarse probes."""
    return result.edges_found * budget(result.n) + len(result.coarse)


def ranges(result: BisectResult) -> list[tuple[int | None, int | None, int | None, int | None]]:
    return [
        (r.introduced.before, r.introduced.after, r.fixed.before, r.fixed.after)
        for r in result.ranges
    ]


def failed_installs(oracle: Oracle) -> int:
    return sum(1 for i in oracle.asked if oracle.marks[i] is S)


def test_one_bad_range_finds_both_edges_within_the_bound() -> None:
    marks = pattern("G" * 10 + "B" * 5 + "G" * 20)
    oracle = Oracle(marks)
    result = bisect(len(marks), 12, oracle)
    assert ranges(result) == [(9, 10, 14, 15)]
    assert result.ranges[0].introduced.exact and result.ranges[0].fixed.exact
    assert result.edges_found == 2
    assert result.probes == len(oracle.asked) <= bound(result)
    assert len(set(oracle.asked)) == len(oracle.asked), "no index is asked twice"
    assert {12, 34}.issubset(oracle.batches[0]), "the start and the newer half come first"
    assert 0 in result.coarse, "the older half follows, down to the oldest release"
    assert set(result.coarse) >= set(coarse_points(len(marks)))


def test_coarse_points_are_evenly_spaced_with_both_ends() -> None:
    assert coarse_points(1) == [0]
    assert coarse_points(2) == [0, 1]
    assert coarse_points(120) == [0, 17, 34, 51, 68, 85, 102, 119]
    assert coarse_points(120, 3) == [0, 60, 119]
    assert coarse_points(5, 50) == [0, 1, 2, 3, 4]


@given(
    st.integers(min_value=2, max_value=300).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(0, n - 1), min_size=1, max_size=6, unique=True).map(sorted),
        )
    ),
    st.data(),
)
def test_every_range_of_any_history_is_found_where_probes_can_see_it(
    case: tuple[int, list[int]], data: st.DataObject
) -> None:
    """Flips at arbitrary places: every flip between two probed releases is found
    exactly, every probed release is in the range its mark says, and whatever
    the probes missed lies inside a listed gap narrower than the coarse spacing."""
    n, flips = case
    marks = []
    bad = False
    for index in range(n):
        if index in flips:
            bad = not bad
        marks.append(B if bad else G)
    start = data.draw(st.integers(0, n - 1))
    oracle = Oracle(marks)
    result = bisect(n, start, oracle)
    assert result.probes <= bound(result) + 1  # +1: the start, when it is no coarse point
    reported: dict[int, Mark] = {}
    for found in result.ranges:
        low, high = found.introduced.after, found.fixed.before
        assert low is not None and high is not None
        reported.update({i: B for i in range(low, high + 1)})
        if found.introduced.before is not None:
            assert found.introduced.exact and marks[found.introduced.before] is G
        if found.fixed.after is not None:
            assert found.fixed.exact and marks[found.fixed.after] is G
    assert all(reported.get(i, G) is m for i, m in result.marks.items()), "probes agree"
    spacing = max(b - a for a, b in itertools.pairwise(coarse_points(n)))
    for index in range(n):
        if reported.get(index, G) is not marks[index]:
            gap = next(g for g in result.gaps if g.before < index < g.after)
            assert gap.width < spacing, "a missed interval hides inside a listed gap"


def test_bad_good_bad_on_a_cold_cache_is_two_ranges() -> None:
    marks = pattern("B" * 40 + "G" * 30 + "B" * 50)
    oracle = Oracle(marks)
    result = bisect(len(marks), 10, oracle)
    assert ranges(result) == [(None, 0, 39, 40), (69, 70, 119, None)]
    assert result.edges_found == 2
    assert result.probes <= bound(result)


def test_claimed_edges_are_always_probed() -> None:
    marks = pattern("G" * 55 + "B" * 3 + "G" * 62)  # a short interval between coarse points
    oracle = Oracle(marks)
    missed = bisect(len(marks), 100, oracle)
    assert missed.ranges == [], "between two good coarse probes (51, 68): not seen ..."
    assert any(g.before < 56 < g.after for g in missed.gaps), "... but listed as a gap"
    oracle = Oracle(marks)
    result = bisect(len(marks), 100, oracle, anchors=[54, 55])
    assert ranges(result) == [(54, 55, 57, 58)]


def test_a_band_of_install_failures_is_crossed_by_galloping() -> None:
    # 60 old releases cannot be installed; the bug came in at 80 and stays.
    marks = pattern("S" * 60 + "G" * 20 + "B" * 40)
    oracle = Oracle(marks)
    result = bisect(len(marks), 100, oracle)
    assert ranges(result) == [(79, 80, 119, None)]
    assert failed_installs(oracle) <= BAND_FAILURES
    assert 17 not in oracle.asked, "the descent galloped over it (presumed like the band)"
    (band,) = result.bands
    assert band.first == 0 and band.presumed > 0
    assert result.probes <= bound(result)


def test_a_band_next_to_the_edge_costs_at_most_four_failed_installs() -> None:
    marks = pattern("G" * 20 + "S" * 25 + "B" * 40 + "G" * 30)
    oracle = Oracle(marks)
    result = bisect(len(marks), 70, oracle)
    assert failed_installs(oracle) <= BAND_FAILURES
    (found,) = result.ranges
    before, after = found.introduced.before, found.introduced.after
    assert before is not None and 16 <= before < 20, "galloped up to the band from below"
    assert after is not None and 45 <= after <= 47, "galloped down to the band from above"
    assert found.introduced.skipped, "the band's failures are named"
    assert found.fixed == Edge(84, 85)
    assert result.probes <= bound(result)


def test_the_release_beside_the_start_is_probed_when_the_band_budget_is_spent() -> None:
    # Windows wheels: the oldest 76 of 150 releases cannot be installed; the bug
    # is one release (78) just above the band.  The coarse descent spends the
    # band's budget; the release beside the start is still probed.
    marks = pattern("S" * 76 + "G" * 2 + "B" + "G" * 71)
    oracle = Oracle(marks)
    result = bisect(len(marks), 78, oracle)
    (found,) = result.ranges
    assert found.introduced == Edge(77, 78) and found.fixed == Edge(78, 79)
    assert failed_installs(oracle) <= BAND_FAILURES + 1


def test_install_error_holes_widen_the_edge_instead_of_derailing_it() -> None:
    marks = pattern("GGGGGGGGSSB" + "BBBB" + "GSGGGGGGG")
    oracle = Oracle(marks)
    result = bisect(len(marks), 12, oracle)
    (found,) = result.ranges
    assert found.introduced == Edge(7, 10, (8, 9))
    assert not found.introduced.exact and found.introduced.untried() == 0
    assert found.fixed == Edge(14, 15)


def test_only_skips_below_the_first_bad() -> None:
    marks = pattern("SSSBBBGG")
    result = bisect(len(marks), 4, Oracle(marks))
    (found,) = result.ranges
    assert found.introduced.before is None and found.introduced.after == 3
    assert found.fixed == Edge(5, 6)


def test_edges_at_the_ends_of_the_range() -> None:
    result = bisect(8, 2, Oracle(pattern("BBBBGGGG")))
    assert ranges(result) == [(None, 0, 3, 4)]
    result = bisect(8, 5, Oracle(pattern("GGGGBBBB")))
    assert ranges(result) == [(3, 4, 7, None)]
    single = bisect(1, 0, Oracle([B]))
    assert ranges(single) == [(None, 0, 0, None)] and single.probes == 1


def test_a_given_start_that_is_not_bad_stops_after_the_first_round() -> None:
    oracle = Oracle(pattern("GGGGBBGG"))
    result = bisect(8, 1, oracle, require_start_bad=True)
    assert result.start_mark is G and result.ranges == []
    assert oracle.batches == [(1,)]
    skipped = bisect(8, 4, Oracle(pattern("GGGGSBGG")), require_start_bad=True)
    assert skipped.start_mark is S


def test_known_marks_are_observations_without_probes() -> None:
    marks = pattern("G" * 40 + "B" * 10 + "G" * 50)
    oracle = Oracle(marks)
    known = {i: marks[i] for i in range(0, 100, 5)}
    result = bisect(len(marks), 45, oracle, free=set(known), known=known)
    assert ranges(result) == [(39, 40, 49, 50)]
    assert not set(oracle.asked) & set(known), "a known release is never asked again"
    assert result.probes < len(known)


def test_cached_indices_near_the_middle_are_preferred() -> None:
    marks = pattern("G" * 40 + "B" * 10 + "G" * 50)
    free = {18, 22, 45, 70, 75}
    oracle = Oracle(marks)
    result = bisect(len(marks), 45, oracle, free=free)
    assert ranges(result) == [(39, 40, 49, 50)]
    assert result.probes <= bound(result)


def test_start_outside_the_range_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        bisect(3, 3, Oracle([G, G, G]))


def _cell(outcome: str, signature: str | None = None) -> CellResult:
    return CellResult(
        scenario="s", package="uvicorn", version="0.13.4", python="3.8", platform="linux",
        outcome=outcome, expected=True, reason="", signature=signature,
    )  # fmt: skip


def test_marks_of_cells() -> None:
    sigs = {"port0"}
    assert mark_of(_cell("known-failure", "port0"), sigs) is B
    assert mark_of(_cell("known-failure", "other"), sigs) is G
    assert mark_of(_cell("pass"), sigs) is G
    assert mark_of(_cell("new-failure"), sigs) is G, "a different failure: the signature is absent"
    assert mark_of(_cell("timeout"), sigs) is G
    assert mark_of(_cell("install-error"), sigs) is S
    assert mark_of(_cell("skip"), sigs) is S
    assert mark_of(_cell("new-failure"), sigs, any_failure=True) is B
    assert mark_of(_cell("install-error"), sigs, any_failure=True) is S
    also = dataclasses.replace(_cell("known-failure", "other"), also_matched=("port0",))
    assert mark_of(also, sigs) is B, "a signature matched besides the cell's first counts"
    not_here = dataclasses.replace(_cell("skip"), reason="not applicable: 0.1 is outside >=0.2")
    assert mark_of(not_here, sigs) is G, "where the scenario does not apply, the bug is absent"
