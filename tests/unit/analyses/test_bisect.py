"""The bisect search over a fake oracle: edges, probe counts, holes, ends, non-monotone."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.analyses.bisect import Edge, Mark, bisect, mark_of
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


def budget(n: int) -> int:
    """Two binary searches plus the start and both ends."""
    return 2 * math.ceil(math.log2(max(n, 2))) + 3


def test_monotone_range_finds_both_edges() -> None:
    marks = pattern("G" * 10 + "B" * 5 + "G" * 20)
    oracle = Oracle(marks)
    result = bisect(len(marks), 12, oracle)
    assert result.introduced == Edge(9, 10)
    assert result.fixed == Edge(14, 15)
    assert result.inconsistent == ()
    assert result.probes == len(oracle.asked) <= budget(len(marks))
    assert len(set(oracle.asked)) == len(oracle.asked), "no index is asked twice"
    assert oracle.batches[0] == (0, 12, 34), "the start and both ends come first"
    assert all(len(batch) <= 2 for batch in oracle.batches[1:]), "one probe per edge per round"


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(0, n - 1).flatmap(lambda a: st.tuples(st.just(a), st.integers(a, n - 1))),
        )
    ),
    st.data(),
)
def test_any_single_bad_range_is_found_in_log_probes(
    case: tuple[int, tuple[int, int]], data: st.DataObject
) -> None:
    n, (first_bad, last_bad) = case
    start = data.draw(st.integers(first_bad, last_bad))
    marks = [B if first_bad <= i <= last_bad else G for i in range(n)]
    oracle = Oracle(marks)
    result = bisect(n, start, oracle)
    assert result.introduced is not None and result.fixed is not None
    assert result.introduced.after == first_bad
    assert result.introduced.before == (first_bad - 1 if first_bad > 0 else None)
    assert result.fixed.before == last_bad
    assert result.fixed.after == (last_bad + 1 if last_bad < n - 1 else None)
    assert result.probes <= budget(n)
    assert result.inconsistent == ()


def test_install_error_holes_widen_the_edge_instead_of_derailing_it() -> None:
    marks = pattern("GGGGGGGGSSB" + "BBBB" + "GSGGGGGGG")
    oracle = Oracle(marks)
    result = bisect(len(marks), 12, oracle)
    # 8 and 9 could not be tested: the introduction is at 9, 10 or... 10 is bad.
    assert result.introduced == Edge(7, 10, (8, 9))
    assert not result.introduced.exact
    assert result.fixed == Edge(14, 15), "16 was skipped, but it is past the first good"


def test_a_skipped_end_of_the_range_is_not_taken_for_good() -> None:
    marks = pattern("SSGGGBBB")
    result = bisect(len(marks), 6, Oracle(marks))
    assert result.introduced == Edge(4, 5)
    only_skips_below = pattern("SSSBBBGG")
    result = bisect(len(only_skips_below), 4, Oracle(only_skips_below))
    assert result.introduced == Edge(None, 3, (0, 1, 2))
    assert result.fixed == Edge(5, 6)


def test_edges_at_the_ends_of_the_range() -> None:
    bad_from_start = pattern("BBBBGGGG")
    result = bisect(8, 2, Oracle(bad_from_start))
    assert result.introduced == Edge(None, 0)
    assert result.fixed == Edge(3, 4)
    bad_to_end = pattern("GGGGBBBB")
    result = bisect(8, 5, Oracle(bad_to_end))
    assert result.introduced == Edge(3, 4)
    assert result.fixed == Edge(7, None)
    single = bisect(1, 0, Oracle([B]))
    assert single.introduced == Edge(None, 0) and single.fixed == Edge(0, None)
    assert single.probes == 1


def test_start_that_is_not_bad_stops_after_the_first_round() -> None:
    oracle = Oracle(pattern("GGGGBBGG"))
    result = bisect(8, 1, oracle)
    assert result.start_mark is G
    assert result.introduced is None and result.fixed is None
    assert len(oracle.batches) == 1
    skipped_start = bisect(8, 4, Oracle(pattern("GGGGSBGG")))
    assert skipped_start.start_mark is S and skipped_start.introduced is None


def test_non_monotone_outcomes_are_reported_not_hidden() -> None:
    # Bad at the lower end of the range and again around the start: the end's
    # check probe passes, so the picture is not one bad range; the edges of the
    # bad range around the start are still found.
    marks = pattern("BBGGGGBBBBGGG")
    result = bisect(len(marks), 8, Oracle(marks))
    assert result.introduced == Edge(5, 6)
    assert result.fixed == Edge(9, 10)
    assert result.inconsistent == (0,)
    # The same at the upper end.
    marks = pattern("GGGBBBGGGGGBB")
    result = bisect(len(marks), 4, Oracle(marks))
    assert result.fixed == Edge(5, 6)
    assert result.inconsistent == (12,)
    # A good release inside the bad range, known from an earlier run (cache):
    marks = pattern("GGGBBGBBBGGG")
    result = bisect(len(marks), 7, Oracle(marks), known={5: G})
    assert 5 in result.inconsistent
    # ... or a bad one outside it:
    marks = pattern("GGBGGGBBBGGG")
    result = bisect(len(marks), 7, Oracle(marks), known={2: B})
    assert result.introduced == Edge(5, 6)
    assert result.inconsistent == (2,)


def test_cached_indices_near_the_middle_are_preferred() -> None:
    marks = pattern("G" * 40 + "B" * 10 + "G" * 50)
    free = {18, 22, 45, 70, 75}
    oracle = Oracle(marks)
    result = bisect(len(marks), 45, oracle, free=free)
    assert result.introduced == Edge(39, 40) and result.fixed == Edge(49, 50)
    paid = [i for i in oracle.asked if i not in free]
    assert {22, 70}.issubset(oracle.asked), "free probes near the middle were used"
    assert len(paid) <= budget(len(marks))


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
