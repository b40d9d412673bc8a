"""Find where a failure starts and where it stops among ordered releases.

The search is pure: it works on the indices 0..n-1 of an ordered release list
and asks an `evaluate` callback for the mark of a batch of indices (`bad`,
`good`, or `skip` for a release that cannot be tested, git-bisect's 125).  The
caller decides what a mark means and how a batch runs (in parallel, from a
cache); the search decides which indices are worth asking about.

From a known-bad start it checks both ends of the range, then searches the
two edges at once, one probe per edge per round, halving each edge's interval
with every probe: O(log n) probes per edge.  Skipped indices are set aside and
the probe nearest the middle among the rest is taken instead, so a hole of
untestable releases widens the reported edge instead of derailing it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.outcomes import Outcome
from harness.results import CellResult


class Mark(enum.Enum):
    BAD = "bad"
    GOOD = "good"
    SKIP = "skip"


Evaluate = Callable[[Sequence[int]], Mapping[int, Mark]]


def mark_of(result: CellResult, signatures: Collection[str], any_failure: bool = False) -> Mark:
    """What a cell says about the failure being searched for.

    bad: the failure is there (its signature matched; with `any_failure`, any
    outcome but a pass).  good: it is not (a pass, or a *different* failure,
    which the caller reports as such).  skip: the release could not be tested.
    """
    if result.outcome in (Outcome.INSTALL_ERROR, Outcome.SKIP):
        return Mark.SKIP
    if any_failure:
        return Mark.GOOD if result.outcome == Outcome.PASS else Mark.BAD
    if result.outcome == Outcome.KNOWN_FAILURE and result.signature in signatures:
        return Mark.BAD
    return Mark.GOOD


@dataclass(frozen=True)
class Edge:
    """Where the mark flips: `before` is the last index on the old side, `after`
    the first on the new side.  None: no index on that side was observed (the
    range ends there, or every index there was skipped).  `skipped`: untested
    indices between the two, so the flip is at one of them or at `after`."""

    before: int | None
    after: int | None
    skipped: tuple[int, ...] = ()

    @property
    def exact(self) -> bool:
        return self.before is not None and self.after is not None and not self.skipped


@dataclass
class EdgeSearch:
    """Binary search for the flip from `old` (at `lo`) to `new` (at `hi`).

    `lo` and `hi` may be virtual (-1 or n): that side has not been observed.
    """

    lo: int
    hi: int
    old: Mark
    new: Mark
    n: int
    tested: set[int] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)

    def candidates(self) -> list[int]:
        return [i for i in range(self.lo + 1, self.hi) if i not in self.tested]

    def next_probe(self, free: Collection[int] = ()) -> int | None:
        """The untested index nearest the middle; a free one (cached) if it is
        close enough to the middle that it still cuts the interval by a quarter."""
        candidates = self.candidates()
        if not candidates:
            return None
        middle = (self.lo + self.hi) / 2
        quarter = (self.hi - self.lo) / 4
        cheap = [i for i in candidates if i in free and abs(i - middle) <= quarter]
        pool = cheap or candidates
        return min(pool, key=lambda i: (abs(i - middle), i))

    def record(self, index: int, mark: Mark) -> None:
        self.tested.add(index)
        if not self.lo < index < self.hi:
            return
        if mark is self.old:
            self.lo = index
        elif mark is self.new:
            self.hi = index
        else:
            self.skipped.add(index)

    def edge(self) -> Edge:
        before = self.lo if 0 <= self.lo < self.n else None
        after = self.hi if 0 <= self.hi < self.n else None
        holes = tuple(sorted(i for i in self.skipped if self.lo < i < self.hi))
        return Edge(before, after, holes)


@dataclass
class BisectResult:
    """What the search saw: every probe's mark, the rounds, and the two edges.

    `introduced` is the good→bad edge below the start and `fixed` the bad→good
    edge above it; both are None when the start is not bad.
    """

    n: int
    start: int
    marks: dict[int, Mark]
    rounds: list[tuple[int, ...]]
    introduced: Edge | None = None
    fixed: Edge | None = None
    inconsistent: tuple[int, ...] = ()

    @property
    def start_mark(self) -> Mark | None:
        return self.marks.get(self.start)

    @property
    def probes(self) -> int:
        return sum(len(batch) for batch in self.rounds)


def _inconsistent(
    marks: Mapping[int, Mark], introduced: Edge, fixed: Edge, start: int
) -> tuple[int, ...]:
    """Observed indices that disagree with one bad range around the start."""
    low = introduced.after if introduced.after is not None else start
    high = fixed.before if fixed.before is not None else start
    found = []
    for index, mark in sorted(marks.items()):
        inside = low <= index <= high
        if (mark is Mark.BAD and not inside) or (mark is Mark.GOOD and inside):
            found.append(index)
    return tuple(found)


def _middle(lo: int, hi: int, free: Collection[int]) -> int:
    probe = EdgeSearch(lo, hi, Mark.GOOD, Mark.BAD, hi + 1).next_probe(free)
    return (lo + hi) // 2 if probe is None else probe


def _search_from(
    marks: Mapping[int, Mark], end: int, check: int | None, virtual: int
) -> int | None:
    """Where one side's search starts: the end of the range when it is good,
    beyond it (`virtual`) when it was skipped, the check probe when the end was
    bad but the check passed; None: the bad range reaches the end."""
    if marks[end] is Mark.GOOD:
        return end
    if marks[end] is Mark.SKIP:
        return virtual
    if check is not None and marks[check] is Mark.GOOD:
        return check
    return None


def bisect(
    n: int,
    start: int,
    evaluate: Evaluate,
    free: Collection[int] = (),
    known: Mapping[int, Mark] | None = None,
) -> BisectResult:
    """Search the edges of the bad range that contains `start`.

    `free` are indices that cost nothing to evaluate (cached): the search
    prefers them when they are near the middle.  `known` are marks observed
    elsewhere (cached cells not probed); they are not trusted for the search
    but checked, with the probes, against the edges found.
    """
    if not 0 <= start < n:
        raise ValueError(f"start {start} outside 0..{n - 1}")
    marks: dict[int, Mark] = {}
    rounds: list[tuple[int, ...]] = []

    def run(batch: Iterable[int]) -> None:
        wanted = tuple(sorted(set(batch)))
        answers = evaluate(wanted)
        rounds.append(wanted)
        for index in wanted:
            marks[index] = answers[index]

    run({start, 0, n - 1})
    result = BisectResult(n, start, marks, rounds)
    if marks[start] is not Mark.BAD:
        return result

    # An end of the range that is bad too: the bad range reaches past it, or
    # the outcome is not monotone.  One probe between it and the start tells
    # the two apart when it passes (and the search then continues from there).
    checks = {}
    if marks[0] is Mark.BAD and start > 1:
        checks["lower"] = _middle(0, start, free)
    if marks[n - 1] is Mark.BAD and start < n - 2:
        checks["upper"] = _middle(start, n - 1, free)
    if checks:
        run(checks.values())

    searches: list[EdgeSearch] = []
    introduced: Edge | None = None
    fixed: Edge | None = None
    lower_from = None if start == 0 else _search_from(marks, 0, checks.get("lower"), -1)
    if lower_from is None:
        introduced = Edge(None, 0)
    else:
        lower = EdgeSearch(lower_from, start, Mark.GOOD, Mark.BAD, n)
        searches.append(lower)
    upper_from = None if start == n - 1 else _search_from(marks, n - 1, checks.get("upper"), n)
    if upper_from is None:
        fixed = Edge(n - 1, None)
    else:
        upper = EdgeSearch(start, upper_from, Mark.BAD, Mark.GOOD, n)
        searches.append(upper)
    for search in searches:
        for index, mark in marks.items():
            search.record(index, mark)

    while True:
        batch: dict[int, EdgeSearch] = {}
        for search in searches:
            probe = search.next_probe(free)
            if probe is not None:
                batch[probe] = search
        if not batch:
            break
        run(batch)
        for index, search in batch.items():
            search.record(index, marks[index])

    for search in searches:
        if search.new is Mark.BAD:
            introduced = search.edge()
        else:
            fixed = search.edge()
    assert introduced is not None and fixed is not None
    everything = {**(known or {}), **marks}
    result.introduced = introduced
    result.fixed = fixed
    result.inconsistent = _inconsistent(everything, introduced, fixed, start)
    return result
