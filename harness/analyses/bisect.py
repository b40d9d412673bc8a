"""Find every range of releases where a failure is present, among ordered releases.

The search is pure: it works on the indices 0..n-1 of an ordered release list
and asks an `evaluate` callback for the mark of a batch of indices (`bad`,
`good`, or `skip` for a release that cannot be tested, git-bisect's 125).  The
caller decides what a mark means and how a batch runs (in parallel, from a
cache); the search decides which indices are worth asking about.

It works on a cold cache in two phases:

1. *Coarse probes*: a few evenly spaced releases (both ends included), the
   start and the claimed edges.  The newer half goes first; the older half
   follows from the newest down, and a run of install failures there (a
   *band*: old releases that cannot be built on this Python) is crossed by
   galloping, each step twice the last, instead of release by release.
2. *Halving*: every transition between adjacent observed releases (good to
   bad, bad to good) is searched by halving, one probe per transition per
   round; a band between them is approached from both sides by galloping
   from the testable releases toward it.  Every band may cost at most
   `BAND_FAILURES` failed installs in all; past that, the releases next to it
   stay untried and the edges say so.

Stretches between two probes with the same mark are not searched: a short
interval of the other mark could hide there, and the result lists them with
their width (`Gap`).
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.analyses.bisect_bands import Band, bands_of, descent_band, gallop_target
from harness.outcomes import Outcome
from harness.results import CellResult
from harness.scenario.applicability import is_not_applicable


class Mark(enum.Enum):
    BAD = "bad"
    GOOD = "good"
    SKIP = "skip"


Evaluate = Callable[[Sequence[int]], Mapping[int, Mark]]

#: Failed installs one band may cost, coarse probes included.
BAND_FAILURES = 4


def mark_of(result: CellResult, signatures: Collection[str], any_failure: bool = False) -> Mark:
    """What a cell says about the failure being searched for.

    bad: the failure is there (one of its matched signatures is searched for;
    with `any_failure`, any outcome but a pass).  good: it is not (a pass, a
    *different* failure, which the caller reports as such, or a release the
    scenario does not apply to).  skip: the release could not be tested.
    """
    if result.outcome == Outcome.SKIP and is_not_applicable(result.reason):
        return Mark.GOOD
    if result.outcome in (Outcome.INSTALL_ERROR, Outcome.SKIP):
        return Mark.SKIP
    if any_failure:
        return Mark.GOOD if result.outcome == Outcome.PASS else Mark.BAD
    if result.outcome == Outcome.KNOWN_FAILURE and set(result.signatures) & set(signatures):
        return Mark.BAD
    return Mark.GOOD


@dataclass(frozen=True)
class Edge:
    """Where the mark flips: `before` is the last index on the old side, `after`
    the first on the new side.  None: no index on that side was observed (the
    range ends there, or every index there was skipped).  `skipped`: indices
    between the two that could not be tested; any other index between them
    was not tried, so the flip is somewhere between `before` and `after`."""

    before: int | None
    after: int | None
    skipped: tuple[int, ...] = ()

    @property
    def exact(self) -> bool:
        return self.before is not None and self.after is not None and self.after == self.before + 1

    @property
    def found(self) -> bool:
        """Both sides were observed: an edge the search found (not a range end)."""
        return self.before is not None and self.after is not None

    def untried(self) -> int:
        """Indices between the two sides that were neither tested nor skipped."""
        if self.before is None or self.after is None:
            return 0
        return self.after - self.before - 1 - len(self.skipped)


@dataclass(frozen=True)
class BadRange:
    """One run of bad releases: where it starts (`introduced`) and stops (`fixed`)."""

    introduced: Edge
    fixed: Edge

    def contains(self, index: int) -> bool:
        assert self.introduced.after is not None and self.fixed.before is not None
        return self.introduced.after <= index <= self.fixed.before


@dataclass(frozen=True)
class Gap:
    """Untried releases between two probes with the same mark: a short interval
    of the other mark could hide there."""

    before: int
    after: int
    mark: Mark

    @property
    def width(self) -> int:
        return self.after - self.before - 1


@dataclass
class EdgeSearch:
    """Binary search for the flip from `old` (at `lo`) to `new` (at `hi`), used to
    pin a claim's edge with a few extra cells (`harness.analyses.narrowing`).

    `lo` and `hi` may be virtual (-1 or n): that side has not been observed.
    """

    lo: int
    hi: int
    old: Mark
    new: Mark
    n: int
    tested: set[int] = field(default_factory=set)

    def candidates(self) -> list[int]:
        return [i for i in range(self.lo + 1, self.hi) if i not in self.tested]

    def next_probe(self, free: Collection[int] = ()) -> int | None:
        """The untested index nearest the middle; a free one (cached) if it is
        close enough to the middle that it still cuts the interval by a quarter."""
        return nearest_middle(self.candidates(), self.lo, self.hi, free)

    def record(self, index: int, mark: Mark) -> None:
        self.tested.add(index)
        if not self.lo < index < self.hi:
            return
        if mark is self.old:
            self.lo = index
        elif mark is self.new:
            self.hi = index


def nearest_middle(
    candidates: Sequence[int], lo: int, hi: int, free: Collection[int]
) -> int | None:
    """The candidate nearest the middle of (lo, hi), preferring a free (cached)
    one that still cuts the interval by a quarter."""
    if not candidates:
        return None
    middle = (lo + hi) / 2
    quarter = (hi - lo) / 4
    cheap = [i for i in candidates if i in free and abs(i - middle) <= quarter]
    return min(cheap or candidates, key=lambda i: (abs(i - middle), i))


def coarse_points(n: int, count: int | None = None) -> list[int]:
    """`count` evenly spaced indices, both ends included (default ceil(log2 n) + 1)."""
    if n <= 1:
        return [0][:n]
    count = count or math.ceil(math.log2(n)) + 1
    count = max(2, min(n, count))
    return sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})


@dataclass
class BisectResult:
    """What the search saw: every probe's mark, the rounds, and what they show."""

    n: int
    start: int
    marks: dict[int, Mark]
    rounds: list[tuple[int, ...]]
    #: Probes of the coarse phase (the cost bound counts them apart).
    coarse: tuple[int, ...] = ()
    ranges: list[BadRange] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)

    @property
    def start_mark(self) -> Mark | None:
        return self.marks.get(self.start)

    @property
    def probes(self) -> int:
        return sum(len(batch) for batch in self.rounds)

    @property
    def edges_found(self) -> int:
        return sum(edge.found for r in self.ranges for edge in (r.introduced, r.fixed))

    def around_start(self) -> BadRange | None:
        """The bad range that contains the start, if it is bad."""
        return next((r for r in self.ranges if r.contains(self.start)), None)


def budget(n: int) -> float:
    """Builds one edge may cost on a cold cache: 2·log2(n) + 4."""
    return 2 * math.log2(max(n, 2)) + 4


class _Search:
    """The state of one search: marks seen and the rounds asked."""

    def __init__(self, n: int, evaluate: Evaluate, free: Collection[int]) -> None:
        self.n = n
        self.evaluate = evaluate
        self.free = free
        self.marks: dict[int, Mark] = {}
        self.rounds: list[tuple[int, ...]] = []
        #: The start and the claimed edges: where the failure is looked for.
        self.focus: set[int] = set()
        #: (band edge, side) -> the next gallop step from the testable side.
        self.steps: dict[tuple[int, int], int] = {}
        self.pending: dict[int, tuple[int, int]] = {}

    def run(self, batch: Iterable[int]) -> None:
        wanted = tuple(sorted(set(batch) - set(self.marks)))
        if not wanted:
            return
        answers = self.evaluate(wanted)
        self.rounds.append(wanted)
        for index in wanted:
            self.marks[index] = answers[index]

    def testable(self) -> list[int]:
        return sorted(i for i, mark in self.marks.items() if mark is not Mark.SKIP)

    def coarse(self, points: Sequence[int], must: Iterable[int]) -> None:
        """The newer half and the anchors at once, then the older half from the
        newest down, galloping across a band of install failures."""
        middle = (self.n - 1) / 2
        self.run({*must, *(p for p in points if p >= middle)})
        lower = sorted((p for p in points if p < middle and p not in self.marks), reverse=True)
        while lower:
            band = descent_band(self.marks, lower[0])
            if band.failures >= BAND_FAILURES:
                return  # the band's cause explains the rest: presumed, not tried
            if band.failures >= 2:
                target = gallop_target(band)
                lower = [p for p in lower if p <= target] or [0]
                self.run([lower.pop(0)])
            elif band.failures == 1:
                self.run([lower.pop(0)])
            else:
                self.run(lower[:2])
                lower = lower[2:]

    def next_round(self) -> list[int]:
        """One probe per open transition (and per band side worth narrowing)."""
        batch: list[int] = []
        testable = self.testable()
        for a, b in itertools.pairwise(testable):
            if self.marks[a] is not self.marks[b] or self._focus_in_band(a, b):
                batch += self._zones(a, b)
        if testable and self.marks[testable[0]] is Mark.BAD:
            batch += self._zones(-1, testable[0])
        if testable and self.marks[testable[-1]] is Mark.BAD:
            batch += self._zones(testable[-1], self.n)
        return batch

    def _focus_in_band(self, a: int, b: int) -> bool:
        """A band between `a` and `b` holds the start or a claimed edge: its sides
        are narrowed even though `a` and `b` agree (the edge looked for is there)."""
        skips = [i for i in self.marks if a < i < b]
        return bool(skips) and any(min(skips) <= i <= max(skips) for i in self.focus)

    def _zones(self, a: int, b: int) -> list[int]:
        """Probes between testable `a` and `b` (virtual -1 / n at the range ends):
        the middle; or, with a band between them, one probe on each side of the
        band, galloping from the testable release toward the band (steps that
        double while they find testable releases), as many as the band's
        failure budget still allows."""
        skips = sorted(i for i in self.marks if a < i < b)
        if not skips:
            inside = a >= 0 and b < self.n
            probe = nearest_middle(range(a + 1, b), a, b, self.free) if inside else None
            return [probe] if probe is not None else []
        left = BAND_FAILURES - len(skips)
        # With one failure left, step next to the testable release: the last
        # failure allowed then pins the band's edge instead of leaping past it.
        probes = []
        if a >= 0 and skips[0] - a > 1:  # below the band, from `a` up
            key = (skips[0], -1)
            step = self.steps.get(key, 1) if left > 1 else 1
            probes.append((min(skips[0] - 1, a + step), key))
        if b < self.n and b - skips[-1] > 1:  # above the band, from `b` down
            key = (skips[-1], 1)
            step = self.steps.get(key, 1) if left > 1 else 1
            probes.append((max(skips[-1] + 1, b - step), key))
        chosen = probes[: max(0, left)]
        if not chosen:
            # The budget is spent (often by the coarse descent into the band), but
            # the side next to the start or a claimed edge is where the edge looked
            # for is: one probe there, right beside the testable release.
            chosen = [
                (probe, key)
                for probe, key in probes
                if (key[1] == 1 and b in self.focus and probe == b - 1)
                or (key[1] == -1 and a in self.focus and probe == a + 1)
            ][:1]
        self.pending.update(chosen)
        return [probe for probe, _ in chosen]

    def record_gallops(self) -> None:
        """A band-side probe that found a testable release doubles that side's step."""
        for probe, key in self.pending.items():
            if self.marks.get(probe) not in (None, Mark.SKIP):
                self.steps[key] = self.steps.get(key, 1) * 2
        self.pending.clear()

    def result(self, start: int, coarse: Sequence[int]) -> BisectResult:
        result = BisectResult(self.n, start, self.marks, self.rounds, tuple(coarse))
        testable = self.testable()
        run: list[int] = []
        before_run: int | None = None
        for index in [*testable, None]:
            if index is not None and self.marks[index] is Mark.BAD:
                run.append(index)
                continue
            if run:
                introduced, fixed = self._edge(before_run, run[0]), self._edge(run[-1], index)
                result.ranges.append(BadRange(introduced, fixed))
                run = []
            before_run = index
        for a, b in itertools.pairwise(testable):
            if self.marks[a] is self.marks[b] and b - a > 1:
                result.gaps.append(Gap(a, b, self.marks[a]))
        result.bands = bands_of(self.marks, self.n)
        return result

    def _edge(self, before: int | None, after: int | None) -> Edge:
        low = -1 if before is None else before
        high = self.n if after is None else after
        skipped = tuple(
            sorted(i for i, m in self.marks.items() if low < i < high and m is Mark.SKIP)
        )
        return Edge(before, after, skipped)


def bisect(
    n: int,
    start: int,
    evaluate: Evaluate,
    free: Collection[int] = (),
    known: Mapping[int, Mark] | None = None,
    anchors: Iterable[int] = (),
    coarse: int | None = None,
    require_start_bad: bool = False,
) -> BisectResult:
    """Every bad range among n releases.

    `start` (a release believed bad) and `anchors` (the claimed edges) are
    always probed.  `free` are indices that cost nothing to evaluate (cached):
    the halving prefers them near the middle.  `known` are marks observed
    before (cached cells): they count as observations without being probes.
    `coarse`: how many evenly spaced releases the first phase probes.
    `require_start_bad`: stop after the first round when the start is not bad
    (a user's `--bad` that does not show the failure leaves nothing to search).
    """
    if not 0 <= start < n:
        raise ValueError(f"start {start} outside 0..{n - 1}")
    search = _Search(n, evaluate, free)
    search.marks.update({i: m for i, m in (known or {}).items() if 0 <= i < n})
    points = coarse_points(n, coarse)
    search.focus = {start, *(a for a in anchors if 0 <= a < n)}
    if require_start_bad:
        search.run([start])
        if search.marks[start] is not Mark.BAD:
            return search.result(start, [start])
    search.coarse(points, search.focus)
    asked = [i for batch in search.rounds for i in batch]
    while True:
        batch = [index for index in search.next_round() if index not in search.marks]
        if not batch:
            break
        search.run(batch)
        search.record_gallops()
    return search.result(start, asked)
