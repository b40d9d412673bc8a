"""The report every writer renders: scenarios, their claims, and their grids.

Built once from merged results; the HTML, JUnit, Markdown and terminal writers
only present it.  Claims are re-judged from the merged cells when the scenario
is known (its file is loaded), so a merge of shards says what one run over all
of them would have said; otherwise the verdicts stored in the files are shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.judge.claims import CONTRADICTED, ClaimVerdict, judge_claims
from harness.judge.ranges import ObservedRange
from harness.reports.merge import (
    MergedCell,
    MergedResults,
    Source,
    version_key,
)
from harness.results import CellResult, summarise
from harness.scenario.links import drop_unsafe
from harness.scenario.model import Scenario

RECOMPUTED = "judged from the merged cells"
STORED = "as stored in the results files (scenario file not available)"


@dataclass(frozen=True)
class Column:
    """One interpreter on one platform (with extras, matrix axis values and the
    resolution mode, if the scenario has any: `CellResult.variant`)."""

    python: str
    platform: str
    extras: tuple[str, ...] = ()
    variant: str = ""

    @property
    def label(self) -> str:
        label = f"py{self.python} {self.platform}"
        if self.variant:
            return f"{label} {self.variant}"
        return f"{label} [{','.join(self.extras)}]" if self.extras else label


@dataclass(frozen=True)
class Row:
    """One release of the package under test."""

    package: str
    version: str


Grid = dict[tuple[Row, Column], MergedCell]


@dataclass
class ScenarioReport:
    id: str
    title: str
    description: str
    package: str
    issue: str | None
    fix: str | None
    links: tuple[str, ...]
    claims: list[ClaimVerdict]
    claims_origin: str
    rows: list[Row]
    columns: list[Column]
    grid: Grid
    signatures: dict[str, str] = field(default_factory=dict)
    #: The scenario itself when its file was loaded (repro scripts need it).
    scenario: Scenario | None = None
    #: Each release's `requires-python`, for the releases that declare one.
    requires_python: Mapping[str, str] = field(default_factory=dict)
    #: The signatures of the scenario's own bug, which its upstream links are about:
    #: those with the first signature's claim (others are neighbouring bugs the
    #: scenario declares so that they show as known, like a Ctrl-C bug).
    issue_signatures: frozenset[str] = frozenset()
    #: Views derived from the grid, computed once and shared by the writers
    #: (`reports.overview` keeps its states and tracks here).
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cells(self) -> list[MergedCell]:
        return list(self.grid.values())

    @property
    def unexpected(self) -> list[MergedCell]:
        return [cell for cell in self.cells if not cell.expected and cell.gated]

    @property
    def contradicted(self) -> list[ClaimVerdict]:
        return [claim for claim in self.claims if claim.verdict == CONTRADICTED]

    @property
    def regressed(self) -> bool:
        return bool(self.unexpected or self.contradicted)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cell in self.cells:
            counts[cell.outcome] = counts.get(cell.outcome, 0) + 1
        return counts


@dataclass
class Report:
    scenarios: list[ScenarioReport]
    sources: list[Source]
    notes: list[str]
    complete: bool
    #: Views derived once and shared by the writers (`reports.overview`'s overview).
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cells(self) -> list[MergedCell]:
        return [cell for scenario in self.scenarios for cell in scenario.cells]

    @property
    def claims(self) -> list[ClaimVerdict]:
        return [claim for scenario in self.scenarios for claim in scenario.claims]

    def effective_cells(self) -> list[CellResult]:
        return [cell.effective() for cell in self.cells]

    def summary(self) -> dict[str, Any]:
        summary = summarise(self.effective_cells())
        summary["conflicts"] = sum(cell.conflict for cell in self.cells)
        summary["regressed"] = [s.id for s in self.scenarios if s.regressed]
        summary["contradicted"] = sum(len(s.contradicted) for s in self.scenarios)
        return summary


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def claim_from_json(data: Mapping[str, Any]) -> ClaimVerdict:
    """A stored verdict (tolerant: a missing field becomes empty)."""
    return ClaimVerdict(
        scenario=str(data.get("scenario", "")),
        signature=str(data.get("signature", "")),
        claim=str(data.get("claim", "")),
        platforms=tuple(str(p) for p in data.get("platforms") or ()),
        verdict=str(data.get("verdict", "")),
        detail=str(data.get("detail", "")),
        first_bad=data.get("first_bad"),
        last_bad=data.get("last_bad"),
        last_good_before=data.get("last_good_before"),
        first_good_after=data.get("first_good_after"),
        ranges=tuple(
            _observed(item) for item in data.get("ranges") or () if isinstance(item, Mapping)
        ),
    )


def _observed(data: Mapping[str, Any]) -> ObservedRange:
    """A stored observed range (results written before ranges were stored have none)."""
    return ObservedRange(
        first_bad=str(data.get("first_bad", "")),
        last_bad=str(data.get("last_bad", "")),
        last_good_before=data.get("last_good_before"),
        first_good_after=data.get("first_good_after"),
    )


def _stored_claims(merged: MergedResults, scenario_id: str) -> list[ClaimVerdict]:
    """Stored verdicts of one scenario: identical ones from several files are shown
    once; differing ones are all shown, each naming its file."""
    found: dict[tuple[str, str, str], tuple[ClaimVerdict, str]] = {}
    for data in merged.stored_claims:
        if data.get("scenario") == scenario_id:
            claim = claim_from_json(data)
            found.setdefault(
                (claim.signature, claim.verdict, claim.detail), (claim, str(data.get("source", "")))
            )
    per_signature: dict[str, int] = {}
    for claim, _ in found.values():
        per_signature[claim.signature] = per_signature.get(claim.signature, 0) + 1
    return [
        dataclasses.replace(claim, detail=f"{claim.detail} (stored in {source})")
        if per_signature[claim.signature] > 1
        else claim
        for claim, source in found.values()
    ]


def _releases(merged: MergedResults, scenario: Scenario, notes: list[str]) -> list[Version]:
    stored = merged.releases.get(scenario.package)
    if stored:
        return [Version(v) for v in stored]
    observed = sorted(
        {
            v
            for c in merged.observed_cells()
            if c.package == scenario.package and (v := _version(c.version)) is not None
        }
    )
    notes.append(
        f"{scenario.id}: the results files do not list {scenario.package}'s releases; "
        "claims were judged against the versions observed"
    )
    return observed


def _grid(cells: Sequence[MergedCell]) -> tuple[list[Row], list[Column], Grid]:
    grid: Grid = {}
    for cell in cells:
        first = cell.first
        column = Column(first.python, first.platform, first.extras, first.variant)
        grid[(Row(first.package, first.version), column)] = cell
    rows = sorted({row for row, _ in grid}, key=lambda r: (r.package, version_key(r.version)))
    columns = sorted(
        {column for _, column in grid},
        key=lambda c: (version_key(c.python), c.platform, c.extras, c.variant),
    )
    return rows, columns, grid


def build_report(merged: MergedResults, scenarios: Mapping[str, Scenario]) -> Report:
    """Group merged cells by scenario; re-judge the claims of every known scenario."""
    notes: list[str] = []
    by_scenario: dict[str, list[MergedCell]] = {}
    for cell in merged.cells:  # in `cell_sort_key` order already (merge_results sorts)
        by_scenario.setdefault(cell.first.scenario, []).append(cell)
    observed = merged.observed_cells()
    reports = []
    for scenario_id, cells in sorted(by_scenario.items()):
        scenario = scenarios.get(scenario_id)
        info = merged.scenarios.get(scenario_id, {})
        if scenario is not None:
            own_cells = [c for c in observed if c.scenario == scenario_id]
            releases = {scenario.package: _releases(merged, scenario, notes)}
            claims = judge_claims([scenario], own_cells, releases)
            origin = RECOMPUTED
        else:
            claims = _stored_claims(merged, scenario_id)
            origin = STORED
        rows, columns, grid = _grid(cells)
        own = _scenario_report(scenario_id, scenario, info, claims, origin, rows, columns, grid)
        issue, fix, links, dropped = drop_unsafe(own.id, own.issue, own.fix, own.links)
        own = dataclasses.replace(own, issue=issue, fix=fix, links=links)
        own.requires_python = merged.requires_python.get(own.package, {})
        reports.append(own)
        notes.extend(dropped)
    if merged.conflicts:
        notes.append(f"{len(merged.conflicts)} cell(s) have conflicting results")
    notes.extend(
        f"{source.label}: incomplete (the run was interrupted)"
        for source in merged.sources
        if not source.complete
    )
    return Report(reports, list(merged.sources), notes, merged.complete)


def _scenario_report(
    scenario_id: str,
    scenario: Scenario | None,
    info: Mapping[str, Any],
    claims: list[ClaimVerdict],
    origin: str,
    rows: list[Row],
    columns: list[Column],
    grid: Grid,
) -> ScenarioReport:
    if scenario is not None:
        return ScenarioReport(
            id=scenario_id,
            title=scenario.title,
            description=scenario.description.strip(),
            package=scenario.package,
            issue=scenario.upstream.issue,
            fix=scenario.upstream.fix,
            links=scenario.upstream.links,
            claims=claims,
            claims_origin=origin,
            rows=rows,
            columns=columns,
            grid=grid,
            signatures={s.id: s.description for s in scenario.signatures},
            scenario=scenario,
            issue_signatures=own_bug([(s.id, s.claim.describe()) for s in scenario.signatures]),
        )
    upstream = info.get("upstream") or {}
    return ScenarioReport(
        id=scenario_id,
        title=str(info.get("title") or scenario_id),
        description=str(info.get("description") or ""),
        package=str(info.get("package") or (rows[0].package if rows else "")),
        issue=upstream.get("issue"),
        fix=upstream.get("fix"),
        links=tuple(upstream.get("links") or ()),
        claims=claims,
        claims_origin=origin,
        rows=rows,
        columns=columns,
        grid=grid,
        signatures={
            str(s.get("id")): str(s.get("description") or "")
            for s in info.get("signatures") or ()
            if isinstance(s, Mapping)
        },
        issue_signatures=own_bug(
            [
                (str(s.get("id")), str(s.get("claim") or ""))
                for s in info.get("signatures") or ()
                if isinstance(s, Mapping)
            ]
        ),
    )


def own_bug(signatures: Sequence[tuple[str, str]]) -> frozenset[str]:
    """Ids of the (id, claim) signatures that share the first one's claim."""
    if not signatures:
        return frozenset()
    first_claim = signatures[0][1]
    return frozenset(sid for sid, claim in signatures if claim == first_claim)
