"""Check upstream claims (`fixed_in`, `introduced_in`, or several `ranges`)
against what was observed.

Each claimed range is judged on its own (see `harness.judge.ranges`); the
verdict is never a repetition of the claim:

* `confirmed`: the signature was seen, only where the claim says it should be,
  in every claimed range, and nothing the claim calls affected passes;
* `refined`: confirmed, and the observations narrow the affected range further
  (e.g. they show where the bug was introduced when the claim does not say);
* `contradicted`: the signature appeared outside every claimed range (at or
  after a `fixed_in`, before the first `introduced_in`), or a release the claim
  calls affected passes (the claimed edge itself, or one between two bad
  releases: a bad range that is not contiguous is never `confirmed`);
* `unverifiable here`: nothing observed can speak to the claim, or to one of
  its ranges (a Windows signature run on Linux, the bug never reproduced in
  the run, or the only cells ran on a platform the scenario declares
  unfaithful, such as Wine).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.judge.ranges import (
    ObservedRange,
    RangeJudgement,
    judge_range,
    observed_ranges,
    outside,
)
from harness.outcomes import Outcome
from harness.results import CellResult
from harness.scenario.model import CellContext, Scenario, Signature

CONFIRMED = "confirmed"
REFINED = "refined"
CONTRADICTED = "contradicted"
UNVERIFIABLE = "unverifiable here"


@dataclass(frozen=True)
class ClaimVerdict:
    scenario: str
    signature: str
    claim: str
    platforms: tuple[str, ...]
    verdict: str
    detail: str
    first_bad: str | None = None
    last_bad: str | None = None
    last_good_before: str | None = None
    first_good_after: str | None = None
    #: Every observed bad range, oldest first (the fields above span them all).
    ranges: tuple[ObservedRange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__, platforms=list(self.platforms))
        data["ranges"] = [observed.to_json() for observed in self.ranges]
        return data

    def observed(self) -> str:
        """Every observed range in words, `;`-separated ("not seen" when none)."""
        return "; ".join(observed.describe() for observed in self.ranges) or "not seen"


@dataclass(frozen=True)
class _Edges:
    """The edges of the observed bad ranges as a whole: the first range's lower
    side, the last range's upper side."""

    first_bad: str | None = None
    last_bad: str | None = None
    last_good_before: str | None = None
    first_good_after: str | None = None

    @classmethod
    def of(cls, observed: Sequence[ObservedRange]) -> _Edges:
        if not observed:
            return cls()
        first, last = observed[0], observed[-1]
        return cls(first.first_bad, last.last_bad, first.last_good_before, last.first_good_after)


@dataclass(frozen=True)
class _VerdictBase:
    scenario: str
    signature: str
    claim: str
    platforms: tuple[str, ...]

    def verdict(
        self,
        verdict: str,
        detail: str,
        edges: _Edges | None = None,
        observed: Sequence[ObservedRange] = (),
    ) -> ClaimVerdict:
        edges = edges or _Edges()
        return ClaimVerdict(
            self.scenario,
            self.signature,
            self.claim,
            self.platforms,
            verdict,
            detail,
            edges.first_bad,
            edges.last_bad,
            edges.last_good_before,
            edges.first_good_after,
            tuple(observed),
        )


def result_context(cell: CellResult) -> CellContext:
    """The context a cell ran in, rebuilt from its result record."""
    python: Version | None
    try:
        python = Version(cell.python_full or cell.python)
    except InvalidVersion:
        python = None
    axes = dict(cell.axes)
    axes["resolution"] = cell.resolution
    axes["extras"] = ",".join(cell.extras)
    return CellContext(cell.platform, python, axes)


def judge_signature(
    scenario: Scenario,
    signature: Signature,
    cells: Iterable[CellResult],
    releases: Sequence[Version] = (),
) -> ClaimVerdict:
    """The verdict on one signature's claim from the cells of one scenario."""
    claim = signature.claim
    own = [cell for cell in cells if cell.scenario == scenario.id]
    relevant = [
        cell
        for cell in own
        if signature.applies_in(result_context(cell))
        and cell.outcome not in (Outcome.SKIP, Outcome.INSTALL_ERROR, Outcome.UNFAITHFUL)
    ]
    base = _VerdictBase(
        scenario.id, signature.id, claim.describe(), tuple(sorted(signature.platforms))
    )
    if not relevant:
        return base.verdict(UNVERIFIABLE, _nothing_relevant(signature, own))

    bad = sorted({c.parsed_version for c in relevant if signature.id in c.signatures})
    by_version: dict[Version, list[CellResult]] = {}
    for cell in relevant:
        by_version.setdefault(cell.parsed_version, []).append(cell)
    good = sorted(
        version
        for version, group in by_version.items()
        if version not in set(bad) and all(cell.outcome == Outcome.PASS for cell in group)
    )
    observed = observed_ranges(bad, good)
    edges = _Edges.of(observed)
    judged = [
        judge_range(claimed, bad, good, releases, first=index == 0)
        for index, claimed in enumerate(claim.ranges)
    ]
    contradictions = [problem for j in judged for problem in j.contradictions]
    contradictions += outside(claim.ranges, bad)
    shown = [v for r in observed for v in (r.last_good_before, r.first_bad, r.last_bad,
                                           r.first_good_after)]  # fmt: skip
    evidence = _provenance(by_version, (Version(v) for v in shown if v is not None))
    if contradictions:
        return base.verdict(CONTRADICTED, "; ".join(contradictions) + evidence, edges, observed)
    if not bad:
        ran = ", ".join(str(v) for v in good) or "no passing release"
        detail = f"the signature never appeared in this run (passing: {ran})"
        return base.verdict(UNVERIFIABLE, detail, edges, observed)
    several = len(judged) > 1
    parts = [_range_words(j, several) for j in judged]
    if any(not j.seen for j in judged):
        return base.verdict(UNVERIFIABLE, "; ".join(parts) + evidence, edges, observed)
    verdict = REFINED if judged[0].refinement is not None else CONFIRMED
    return base.verdict(verdict, "; ".join(parts) + evidence, edges, observed)


def _range_words(judged: RangeJudgement, several: bool) -> str:
    """`introduced in 0.13.4; observed bad 0.13.4..0.13.4, good again at 0.14.0`,
    prefixed by the claimed range when the claim has several."""
    if not judged.seen:
        text = "never seen in this run"
    else:
        text = judged.observed
        if judged.refinement is not None:
            text = f"{judged.refinement}; {text}"
    if several:
        text = f"range {judged.claimed.describe() or 'all releases'}: {text}"
    return text


def _nothing_relevant(signature: Signature, own: Sequence[CellResult]) -> str:
    """Why no cell can speak to the claim: scope, platforms, skips, unfaithful targets."""
    scope = signature.scope()
    if scope and any(signature.applies_to(cell.platform) for cell in own):
        return f"no cell this signature applies to ran (it needs {scope})"
    platforms_seen = sorted({cell.platform for cell in own})
    wanted = ", ".join(sorted(signature.platforms))
    unfaithful = sorted(
        {c.platform for c in own if c.outcome == Outcome.UNFAITHFUL}
        & {c.platform for c in own if signature.applies_to(c.platform)}
    )
    if unfaithful:
        return (
            f"only {', '.join(unfaithful)} cells ran for {wanted}, and the scenario "
            "declares that unfaithful (see the cells' reason)"
        )
    if any(signature.applies_to(platform) for platform in platforms_seen):
        return f"no {wanted} cell ran (all were skipped or failed to install)"
    where = ", ".join(platforms_seen) or "no platform"
    return f"signature applies to {wanted}; this run observed {where}"


def _provenance(
    by_version: dict[Version, list[CellResult]], versions: Iterable[Version | None]
) -> str:
    """Where the edge observations come from, when not simply run now as asked:
    cells added by narrowing, and observations reused from the cell cache."""
    notes = []
    for version in dict.fromkeys(v for v in versions if v is not None):
        group = by_version.get(version, [])
        added = any(cell.origin == "narrowing" for cell in group)
        cached = sorted({cell.from_cell_cache for cell in group if cell.from_cell_cache})
        if not added and not cached:
            continue
        what = "a cell added to pin the edge" if added else "a cell"
        where = f"reused from the cell cache, observed {cached[-1]}" if cached else "ran now"
        notes.append(f"{version}: {what}, {where}")
    return f" [evidence: {'; '.join(notes)}]" if notes else ""


def judge_claims(
    scenarios: Iterable[Scenario],
    cells: Sequence[CellResult],
    releases_by_package: dict[str, list[Version]] | None = None,
) -> list[ClaimVerdict]:
    releases_by_package = releases_by_package or {}
    verdicts = []
    for scenario in scenarios:
        releases = releases_by_package.get(scenario.package, [])
        for signature in scenario.signatures:
            if signature.claim.fixed_in is None and signature.claim.introduced_in is None:
                continue
            verdicts.append(judge_signature(scenario, signature, cells, releases))
    return verdicts
