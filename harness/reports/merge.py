"""Merge results files (shards, platforms, days) into one set of cells.

A cell is keyed by (scenario, package, version, python, platform, extras, axes,
resolution): `CellResult.key`.
When two files hold the same key they are two observations of one cell: if
they agree (same outcome, signature, fingerprint and expectation) the first is
shown and the others are kept as corroboration; if they disagree the cell is a
*conflict*, shown as such with every observation's evidence, never resolved
silently in favour of one of them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.judge.rejudge import rejudge_cell
from harness.outcomes import Outcome
from harness.plan.cells import CellKey
from harness.results import CellResult, RunResults, load_results
from harness.scenario.model import Scenario


@dataclass(frozen=True)
class Source:
    """One results file that went into a report."""

    label: str
    started_at: str
    finished_at: str
    complete: bool
    command: tuple[str, ...]
    cells: int
    platforms: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileRecord:
    """One results file's record of one cell (the runner's `Observation` is what it saw)."""

    cell: CellResult
    source: str

    @property
    def verdict(self) -> tuple[str, bool, str | None, str | None]:
        """What two observations must share to agree."""
        cell = self.cell
        return (cell.outcome, cell.expected, cell.signature, cell.fingerprint)


@dataclass(frozen=True)
class MergedCell:
    """One cell of the merged matrix and every observation of it."""

    observations: tuple[FileRecord, ...]

    @property
    def first(self) -> CellResult:
        return self.observations[0].cell

    @property
    def key(self) -> CellKey:
        return self.first.key

    @functools.cached_property
    def conflict(self) -> bool:
        """Computed once: reports ask it of every cell many times."""
        if len(self.observations) == 1:
            return False
        return len({observation.verdict for observation in self.observations}) > 1

    @property
    def outcome(self) -> str:
        return Outcome.CONFLICT if self.conflict else self.first.outcome

    @property
    def expected(self) -> bool:
        return not self.conflict and self.first.expected

    @property
    def gated(self) -> bool:
        """Counts for the verdict of the run: cells added only to pin a claim's
        edge (`origin: narrowing`) inform the claims but do not gate."""
        return self.conflict or self.first.origin == "selected"

    def effective(self) -> CellResult:
        """The cell as reports show it: a conflict is its own, unexpected, outcome."""
        if not self.conflict:
            return self.first
        seen = "; ".join(
            f"{o.cell.outcome}{f' ({o.cell.signature})' if o.cell.signature else ''} in {o.source}"
            for o in self.observations
        )
        return dataclasses.replace(
            self.first,
            outcome=Outcome.CONFLICT,
            expected=False,
            reason=f"conflicting results: {seen}",
            signature=None,
            fingerprint=None,
        )


@dataclass
class MergedResults:
    """The union of several results files, ready for a report."""

    sources: list[Source]
    cells: list[MergedCell]
    stored_claims: list[dict[str, Any]] = field(default_factory=list)
    releases: dict[str, list[str]] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    requires_python: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(source.complete for source in self.sources)

    @property
    def conflicts(self) -> list[MergedCell]:
        return [cell for cell in self.cells if cell.conflict]

    def effective_cells(self) -> list[CellResult]:
        return [cell.effective() for cell in self.cells]

    def observed_cells(self) -> list[CellResult]:
        """Every observation: what claims are judged on (a conflict counts both ways)."""
        return [o.cell for cell in self.cells for o in cell.observations]


@functools.lru_cache(maxsize=4096)
def version_key(text: str) -> tuple[int, Version | str]:
    """Order by version (0.9 < 0.10), anything unparsable after, as text.  Cached:
    a report sorts the same few hundred versions and Pythons thousands of times."""
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def cell_sort_key(cell: CellResult) -> tuple[Any, ...]:
    """Scenario, then package and version in version order, then python, platform."""
    return (
        cell.scenario,
        cell.package,
        version_key(cell.version),
        version_key(cell.python),
        cell.platform,
        cell.extras,
        cell.variant,
    )


def _source(label: str, results: RunResults) -> Source:
    return Source(
        label=label,
        started_at=results.started_at,
        finished_at=results.finished_at,
        complete=results.complete,
        command=tuple(results.command),
        cells=len(results.cells),
        platforms=tuple(sorted({cell.platform for cell in results.cells})),
        notes=tuple(results.notes),
    )


def merge_results(inputs: Sequence[tuple[str, RunResults]]) -> MergedResults:
    """Merge labelled results in the given order (the first observation is shown)."""
    by_key: dict[CellKey, list[FileRecord]] = {}
    stored_claims: list[dict[str, Any]] = []
    releases: dict[str, set[str]] = {}
    scenarios: dict[str, dict[str, Any]] = {}
    requires: dict[str, dict[str, str]] = {}
    for label, results in inputs:
        for cell in results.cells:
            by_key.setdefault(cell.key, []).append(FileRecord(cell, label))
        for claim in results.claims:
            stored_claims.append({**claim, "source": label})
        for package, versions in results.releases.items():
            releases.setdefault(package, set()).update(versions)
        for scenario_id, info in results.scenarios.items():
            scenarios.setdefault(scenario_id, info)
        for package, specs in results.requires_python.items():
            for version, spec in specs.items():
                requires.setdefault(package, {}).setdefault(version, spec)
    merged = [MergedCell(tuple(observations)) for observations in by_key.values()]
    merged.sort(key=lambda cell: cell_sort_key(cell.first))
    return MergedResults(
        sources=[_source(label, results) for label, results in inputs],
        cells=merged,
        stored_claims=stored_claims,
        releases={package: sorted(found, key=Version) for package, found in releases.items()},
        scenarios=scenarios,
        requires_python=requires,
    )


def rejudged(merged: MergedResults, scenarios: Mapping[str, Scenario]) -> MergedResults:
    """Every observation of a scenario at hand judged again by its file (see
    `harness.judge.rejudge`), so cells agree with the claims judged from it."""
    cells = [
        MergedCell(
            tuple(
                FileRecord(rejudge_cell(scenario, o.cell), o.source)
                if (scenario := scenarios.get(o.cell.scenario)) is not None
                else o
                for o in cell.observations
            )
        )
        for cell in merged.cells
    ]
    return dataclasses.replace(merged, cells=cells)


def load_and_merge(paths: Iterable[Path]) -> MergedResults:
    """Read every file (a bad one stops everything with its name) and merge them."""
    return merge_results([(str(path), load_results(path)) for path in paths])


def merged_run_results(merged: MergedResults, claims: list[dict[str, Any]]) -> RunResults:
    """The merge as one results file: every observation kept, so a conflict survives
    a round trip; cells that agree are written once."""
    cells = [
        observation.cell
        for cell in merged.cells
        for observation in (cell.observations if cell.conflict else cell.observations[:1])
    ]
    starts = [s.started_at for s in merged.sources if s.started_at]
    ends = [s.finished_at for s in merged.sources if s.finished_at]
    return RunResults(
        cells=cells,
        claims=claims,
        complete=merged.complete,
        started_at=min(starts, default=""),
        finished_at=max(ends, default=""),
        command=("merged", *(source.label for source in merged.sources)),
        notes=[f"merged from {len(merged.sources)} results file(s)"]
        + [note for source in merged.sources for note in source.notes],
        releases=merged.releases,
        scenarios=merged.scenarios,
        requires_python=merged.requires_python,
    )
