"""Check upstream claims (`fixed_in`, `introduced_in`) against what was observed.

The verdict is never a repetition of the claim:

* `confirmed`: the signature was seen, only where the claim says it should be;
* `refined`: confirmed, and the observations narrow the affected range further
  (e.g. they show where the bug was introduced when the claim does not say);
* `contradicted`: the signature appeared at or after `fixed_in` (or before
  `introduced_in`), or a release the claim calls affected passes;
* `unverifiable here`: nothing observed can speak to the claim (a Windows
  signature run on Linux, the bug never reproduced in the run, or the only
  cells ran on a platform the scenario declares unfaithful, such as Wine).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

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

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__, platforms=list(self.platforms))


@dataclass(frozen=True)
class _Edges:
    first_bad: str | None = None
    last_bad: str | None = None
    last_good_before: str | None = None
    first_good_after: str | None = None


@dataclass(frozen=True)
class _VerdictBase:
    scenario: str
    signature: str
    claim: str
    platforms: tuple[str, ...]

    def verdict(self, verdict: str, detail: str, edges: _Edges | None = None) -> ClaimVerdict:
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


def _previous_release(version: Version, releases: Sequence[Version]) -> Version | None:
    older = [release for release in releases if release < version]
    return max(older) if older else None


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
        scope = signature.scope()
        if scope and any(signature.applies_to(cell.platform) for cell in own):
            return base.verdict(
                UNVERIFIABLE, f"no cell this signature applies to ran (it needs {scope})"
            )
        platforms_seen = sorted({cell.platform for cell in own})
        wanted = ", ".join(sorted(signature.platforms))
        unfaithful = sorted(
            {c.platform for c in own if c.outcome == Outcome.UNFAITHFUL}
            & {c.platform for c in own if signature.applies_to(c.platform)}
        )
        if unfaithful:
            detail = (
                f"only {', '.join(unfaithful)} cells ran for {wanted}, and the scenario "
                "declares that unfaithful (see the cells' reason)"
            )
        elif any(signature.applies_to(platform) for platform in platforms_seen):
            detail = f"no {wanted} cell ran (all were skipped or failed to install)"
        else:
            where = ", ".join(platforms_seen) or "no platform"
            detail = f"signature applies to {wanted}; this run observed {where}"
        return base.verdict(UNVERIFIABLE, detail)

    bad = sorted({c.parsed_version for c in relevant if c.signature == signature.id})
    bad_set = set(bad)
    by_version: dict[Version, list[CellResult]] = {}
    for cell in relevant:
        by_version.setdefault(cell.parsed_version, []).append(cell)
    good = sorted(
        version
        for version, group in by_version.items()
        if version not in bad_set and all(cell.outcome == Outcome.PASS for cell in group)
    )
    if not bad:
        return _judge_never_seen(base, claim.fixed_in, claim.introduced_in, good, releases)

    first_bad, last_bad = bad[0], bad[-1]
    last_good_before = max((v for v in good if v < first_bad), default=None)
    first_good_after = min((v for v in good if v > last_bad), default=None)
    edges = _Edges(
        first_bad=str(first_bad),
        last_bad=str(last_bad),
        last_good_before=str(last_good_before) if last_good_before else None,
        first_good_after=str(first_good_after) if first_good_after else None,
    )
    contradictions = []
    if claim.fixed_in is not None and last_bad >= claim.fixed_in:
        contradictions.append(f"seen in {last_bad}, at or after the claimed fix {claim.fixed_in}")
    if claim.introduced_in is not None and first_bad < claim.introduced_in:
        contradictions.append(
            f"seen in {first_bad}, before the claimed introduction {claim.introduced_in}"
        )
    if claim.introduced_in is not None and claim.introduced_in in good:
        contradictions.append(f"{claim.introduced_in}, the claimed introduction, passes")
    before_fix = _previous_release(claim.fixed_in, releases) if claim.fixed_in else None
    if before_fix is not None and before_fix in good:
        contradictions.append(f"{before_fix}, the release before the claimed fix, passes")
    evidence = _provenance(by_version, (last_good_before, first_bad, last_bad, first_good_after))
    if contradictions:
        return base.verdict(CONTRADICTED, "; ".join(contradictions) + evidence, edges)

    observed = f"observed bad {first_bad}..{last_bad}"
    if first_good_after is not None:
        observed += f", good again at {first_good_after}"
    if claim.introduced_in is None and last_good_before is not None:
        if _previous_release(first_bad, releases) == last_good_before:
            refinement = f"introduced in {first_bad}"
        else:
            refinement = f"introduced after {last_good_before}, by {first_bad}"
        return base.verdict(REFINED, f"{refinement}; {observed}{evidence}", edges)
    return base.verdict(CONFIRMED, observed + evidence, edges)


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


def _judge_never_seen(
    base: _VerdictBase,
    fixed_in: Version | None,
    introduced_in: Version | None,
    good: list[Version],
    releases: Sequence[Version],
) -> ClaimVerdict:
    """The signature never appeared: contradicted only if a release it must affect passed."""
    must_fail = [introduced_in] if introduced_in is not None else []
    if fixed_in is not None:
        before_fix = _previous_release(fixed_in, releases)
        if before_fix is not None:
            must_fail.append(before_fix)
    passing = [v for v in must_fail if v in good]
    if passing:
        detail = f"{passing[0]} passes, but the claim says it has the bug"
        return base.verdict(CONTRADICTED, detail)
    ran = ", ".join(str(v) for v in good) or "no passing release"
    return base.verdict(UNVERIFIABLE, f"the signature never appeared in this run (passing: {ran})")


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
