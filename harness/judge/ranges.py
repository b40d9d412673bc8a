"""Observed bad ranges, and how each claimed range stands against them.

A release is *bad* when one of its cells matched the signature, *good* when
every one of its cells passed; other releases (a different failure, a
timeout) say nothing either way.  The observed ranges are the maximal runs of
bad releases among the decisive ones, so a pass between two bad releases
splits them: a history that is bad, good, then bad again is two ranges, never
one.

Each claimed range is judged on its own: seen only where claimed, or not
(a pass inside it, a failure outside every range); the verdict of the claim
is the weakest of its ranges'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.version import Version

from harness.scenario.signatures import ClaimRange


@dataclass(frozen=True)
class ObservedRange:
    """One run of bad releases and the good ones on either side (None: none observed)."""

    first_bad: str
    last_bad: str
    last_good_before: str | None = None
    first_good_after: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self) -> str:
        """`0.38.0 ✓ → 0.39.0 … 0.44.0 ✗ → 0.45.0 ✓` (… for an unobserved side)."""
        before = self.last_good_before or "…"
        after = self.first_good_after or "…"
        return f"{before} ✓ → {self.first_bad} … {self.last_bad} ✗ → {after} ✓"


def observed_ranges(bad: Sequence[Version], good: Sequence[Version]) -> list[ObservedRange]:
    """The maximal runs of bad releases, in order, with their good neighbours."""
    marks = sorted([(v, True) for v in bad] + [(v, False) for v in good])
    ranges: list[ObservedRange] = []
    run: list[Version] = []
    before: Version | None = None
    for version, is_bad in marks:
        if is_bad:
            run.append(version)
            continue
        if run:
            ranges.append(ObservedRange(str(run[0]), str(run[-1]), _text(before), str(version)))
            run = []
        before = version
    if run:
        ranges.append(ObservedRange(str(run[0]), str(run[-1]), _text(before), None))
    return ranges


def _text(version: Version | None) -> str | None:
    return None if version is None else str(version)


def _previous(version: Version, releases: Sequence[Version]) -> Version | None:
    older = [release for release in releases if release < version]
    return max(older) if older else None


@dataclass
class RangeJudgement:
    """How one claimed range stands: its contradictions, a refinement, or neither."""

    claimed: ClaimRange
    bad: list[Version] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)
    refinement: str | None = None
    observed: str = ""

    @property
    def seen(self) -> bool:
        return bool(self.bad)


def judge_range(
    claimed: ClaimRange,
    bad: Sequence[Version],
    good: Sequence[Version],
    releases: Sequence[Version],
    first: bool,
) -> RangeJudgement:
    """One claimed range against the observations (`first`: the oldest range,
    the only one whose start may be unclaimed and so refined)."""
    judgement = RangeJudgement(claimed, [v for v in bad if claimed.covers(v)])
    inside_good = sorted(v for v in good if claimed.covers(v))
    introduced, fixed = claimed.introduced_in, claimed.fixed_in
    problems = judgement.contradictions
    if introduced is not None and introduced in good:
        problems.append(f"{introduced}, the claimed introduction, passes")
    before_fix = _previous(fixed, releases) if fixed is not None else None
    if before_fix is not None and before_fix in good and claimed.covers(before_fix):
        problems.append(f"{before_fix}, the release before the claimed fix {fixed}, passes")
    if not judgement.bad:
        return judgement
    low, high = judgement.bad[0], judgement.bad[-1]
    for version in inside_good:
        if version in (introduced, before_fix):
            continue
        if low < version < high:
            below = max(v for v in judgement.bad if v < version)
            above = min(v for v in judgement.bad if v > version)
            problems.append(
                f"{version} passes inside the claimed bad range, between {below} and {above} "
                "(the bad range is not contiguous)"
            )
        elif version > high:
            problems.append(f"{version} passes, but the claim says the bug lasts until {fixed}")
        elif introduced is not None:
            problems.append(
                f"{version} passes, but the claim says the bug is there from {introduced}"
            )
    observed = f"observed bad {low}..{high}"
    after = min((v for v in good if v > high), default=None)
    if after is not None:
        observed += f", good again at {after}"
    judgement.observed = observed
    below_good = max((v for v in good if v < low), default=None)
    if first and introduced is None and below_good is not None and not problems:
        if _previous(low, releases) == below_good:
            judgement.refinement = f"introduced in {low}"
        else:
            judgement.refinement = f"introduced after {below_good}, by {low}"
    return judgement


def outside(claimed: Sequence[ClaimRange], bad: Sequence[Version]) -> list[str]:
    """Bad releases no claimed range covers: the newest one after each claimed fix,
    and the oldest one before the first claimed introduction."""
    stray = [v for v in bad if not any(r.covers(v) for r in claimed)]
    problems = []
    for index, claim_range in enumerate(claimed):
        fixed = claim_range.fixed_in
        if fixed is None:
            continue
        following = claimed[index + 1].introduced_in if index + 1 < len(claimed) else None
        late = [v for v in stray if v >= fixed and (following is None or v < following)]
        if late:
            problems.append(f"seen in {max(late)}, at or after the claimed fix {fixed}")
    start = claimed[0].introduced_in
    early = [v for v in stray if start is not None and v < start]
    if early:
        problems.append(f"seen in {min(early)}, before the claimed introduction {start}")
    return problems
