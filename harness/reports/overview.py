"""The compatibility table at a glance: runs of identical results merged into release ranges.

A user asks "which releases are safe on my Python, and which to avoid and why".
Per scenario and column (a Python on a platform, with the scenario's variant)
every release of the scenario, in version order, gets a `State`: the outcome
seen (with its signature or fingerprint), or the `Gap` that says why there is
none (not run on this Python, not supported by the release, not applicable).
Runs of releases in the same state become one `Span` ("✓ 0.14.0 to 0.55.0"), the
way caniuse draws browser support.  Releases no column ran are not drawn: a
span covers the releases tested inside it, and says how many.

Pure and shared: the HTML, terminal and Markdown reports draw the same spans.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.outcomes import Gap, Outcome, is_not_applicable
from harness.reports.links import Link, upstream_links
from harness.reports.merge import MergedCell, version_key
from harness.reports.model import Column, Report, Row, ScenarioReport

#: Joins a range's ends, as typeset ranges are.
DASH = "\u2013"
#: Outcomes that say a release is fine here (a skip or unfaithful cell says nothing).
_FINE = frozenset({Outcome.PASS.value})
_SILENT = frozenset({Outcome.SKIP.value, Outcome.UNFAITHFUL.value, *(g.value for g in Gap)})


@dataclass(frozen=True)
class State:
    """What one release shows in one column."""

    #: An `Outcome` or a `Gap` value.
    mark: str
    #: The failure's signature or fingerprint (merged only when equal).
    detail: str = ""
    expected: bool = True

    @property
    def failing(self) -> bool:
        """The release misbehaved here: a bug, a timeout, a broken install, a conflict."""
        return self.mark not in _FINE and self.mark not in _SILENT

    @property
    def observed(self) -> bool:
        """A cell ran (or was skipped) here, as opposed to a gap."""
        return self.mark not in {g.value for g in Gap}


@dataclass(frozen=True)
class Span:
    """Consecutive releases (of those tested) in one state."""

    state: State
    #: The releases inside, oldest first.
    versions: tuple[str, ...]
    #: The cells behind the span (none for a gap).
    cells: tuple[MergedCell, ...] = ()
    #: A skip's reason (the first one), or why a gap is a gap.
    note: str = ""

    @property
    def first(self) -> str:
        return self.versions[0]

    @property
    def last(self) -> str:
        return self.versions[-1]

    @property
    def label(self) -> str:
        """`0.13.4`, or `0.14.0` and `0.55.0` joined by an en dash."""
        return self.first if len(self.versions) == 1 else f"{self.first}{DASH}{self.last}"

    @property
    def specifier(self) -> str:
        """A version selector for exactly this range (`run --versions`)."""
        return self.first if len(self.versions) == 1 else f">={self.first},<={self.last}"


@dataclass(frozen=True)
class Track:
    """One column's spans: a Python on a platform (and the scenario's variant)."""

    python: str
    platform: str
    variant: str
    spans: tuple[Span, ...]

    @property
    def failing(self) -> list[Span]:
        return [span for span in self.spans if span.state.failing]


@dataclass(frozen=True)
class Agreed:
    """A scenario's spans when every Python that ran a release saw the same thing."""

    platform: str
    variant: str
    pythons: tuple[str, ...]
    spans: tuple[Span, ...]

    @property
    def python_label(self) -> str:
        if len(self.pythons) == 1:
            return self.pythons[0]
        return f"{self.pythons[0]}{DASH}{self.pythons[-1]}"


def span_issue(scenario: ScenarioReport, span: Span) -> Link | None:
    """The upstream issue a failing span is about: the scenario's, when the span's
    signature is the scenario's own bug (see `ScenarioReport.issue_signatures`)."""
    if not span.state.failing or span.state.detail not in scenario.issue_signatures:
        return None
    links = upstream_links(scenario.issue, scenario.fix, ())
    return links[0] if links else None


def _state(cell: MergedCell) -> State:
    first = cell.first
    outcome = cell.outcome
    if is_not_applicable(outcome, first.reason):
        return State(Gap.NOT_APPLICABLE.value)
    if outcome in (Outcome.PASS, Outcome.UNFAITHFUL, Outcome.CONFLICT):
        detail = ""
    elif outcome == Outcome.SKIP:
        detail = first.reason
    else:
        detail = first.signature or first.fingerprint or ""
    return State(str(outcome), detail, cell.expected)


@functools.cache
def supports(requires: str | None, python: str) -> bool:
    """Whether a release's `requires-python` admits `python` (unknown: yes)."""
    if not requires:
        return True
    try:
        return SpecifierSet(requires).contains(Version(python), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


def cell_anchor(cell: MergedCell) -> str:
    """The HTML id of a cell's evidence, stable across runs (the terminal names it)."""
    return "cell-" + hashlib.sha1(repr(cell.key).encode(), usedforsecurity=False).hexdigest()[:12]


def _gap(scenario: ScenarioReport, version: str, python: str) -> tuple[State, str]:
    requires = scenario.requires_python.get(version)
    if not supports(requires, python):
        return State(Gap.NOT_SUPPORTED.value), f"requires Python {requires}"
    return State(Gap.NOT_RUN.value), ""


#: One release in a column: (version, state, its cells, a note).
Item = tuple[str, State, tuple[MergedCell, ...], str]


def merge_runs(items: Iterable[Item]) -> tuple[Span, ...]:
    """Consecutive (version, state, cells, note) items with equal states, as spans."""
    spans: list[Span] = []
    for version, state, cells, note in items:
        if spans and spans[-1].state == state:
            last = spans[-1]
            spans[-1] = Span(state, (*last.versions, version), last.cells + cells, last.note)
        else:
            spans.append(Span(state, (version,), cells, note))
    return tuple(spans)


def states(scenario: ScenarioReport) -> dict[tuple[Row, Column], State]:
    """Every cell's state, computed once per scenario."""
    found: dict[tuple[Row, Column], State] | None = scenario.derived.get("states")
    if found is None:
        found = scenario.derived["states"] = {key: _state(c) for key, c in scenario.grid.items()}
    return found


def column_track(scenario: ScenarioReport, column: Column, rows: Sequence[Row]) -> Track:
    """The spans of one column over the scenario's releases."""
    known = states(scenario)
    items: list[Item] = []
    for row in rows:
        cell = scenario.grid.get((row, column))
        if cell is None:
            state, note = _gap(scenario, row.version, column.python)
            items.append((row.version, state, (), note))
        else:
            state = known[(row, column)]
            note = cell.first.reason if state.mark in _SILENT else ""
            items.append((row.version, state, (cell,), note))
    return Track(column.python, column.platform, column.variant, merge_runs(items))


def _own_rows(scenario: ScenarioReport) -> list[Row]:
    """The rows of the scenario's own package (a report can mix packages)."""
    return [row for row in scenario.rows if row.package == scenario.package] or scenario.rows


def scenario_tracks(scenario: ScenarioReport) -> list[Track]:
    """One track per column of the scenario's grid (computed once)."""
    if "tracks" not in scenario.derived:
        rows = _own_rows(scenario)
        scenario.derived["tracks"] = [column_track(scenario, c, rows) for c in scenario.columns]
    return scenario.derived["tracks"]  # type: ignore[no-any-return]


def agreed(scenario: ScenarioReport) -> list[Agreed] | None:
    """Per platform and variant, one track for all Pythons, or None when some
    release behaved differently on two Pythons (then each Python is drawn)."""
    if "agreed" not in scenario.derived:
        scenario.derived["agreed"] = _agreed(scenario)
    return scenario.derived["agreed"]  # type: ignore[no-any-return]


def _agreed(scenario: ScenarioReport) -> list[Agreed] | None:
    rows = _own_rows(scenario)
    known = states(scenario)
    groups: dict[tuple[str, str], list[Column]] = {}
    for column in scenario.columns:
        groups.setdefault((column.platform, column.variant), []).append(column)
    found = []
    for (platform, variant), columns in groups.items():
        items: list[Item] = []
        for row in rows:
            keys = [(row, column) for column in columns if (row, column) in scenario.grid]
            found_states = {known[key] for key in keys}
            if len(found_states) > 1:
                return None
            if not found_states:
                continue  # another variant's release
            (state,) = found_states
            cells = tuple(scenario.grid[key] for key in keys)
            note = cells[0].first.reason if state.mark in _SILENT else ""
            items.append((row.version, state, cells, note))
        pythons = tuple(sorted({c.python for c in columns}, key=version_key))
        found.append(Agreed(platform, variant, pythons, merge_runs(items)))
    return found


@dataclass(frozen=True)
class OverviewColumn:
    """A column of the overview: one Python on one platform, across scenarios."""

    python: str
    platform: str

    @property
    def label(self) -> str:
        return self.python if self.platform == "linux" else f"{self.python} {self.platform}"


@dataclass(frozen=True)
class PythonVerdict:
    """ "Which release can I take on this Python?", over every scenario."""

    column: OverviewColumn
    #: The newest release that ran here in at least one scenario and failed in none.
    newest_clean: str | None
    #: How many scenarios ran `newest_clean` here, of how many in the report.
    scenarios_ran: int
    scenarios: int
    #: Releases newer than `newest_clean` that no scenario ran here (first, last).
    newer_not_run: tuple[str, str] | None
    #: The oldest newer release whose `requires-python` excludes this Python.
    first_unsupported: str | None
    #: Newer releases that failed here, with the scenarios they failed in.
    newer_failing: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Overview:
    columns: tuple[OverviewColumn, ...]
    #: Per scenario id, per overview column, its tracks (one per variant; empty: not run).
    tracks: Mapping[str, Mapping[OverviewColumn, tuple[Track, ...]]]
    verdicts: tuple[PythonVerdict, ...]


def _columns(report: Report) -> tuple[OverviewColumn, ...]:
    found = {
        OverviewColumn(column.python, column.platform)
        for scenario in report.scenarios
        for column in scenario.columns
    }
    return tuple(
        sorted(found, key=lambda c: (c.platform != "linux", c.platform, version_key(c.python)))
    )


def _verdicts(report: Report, columns: Sequence[OverviewColumn]) -> tuple[PythonVerdict, ...]:
    """Every column's verdict, in one pass over the cells."""
    ran: dict[OverviewColumn, dict[str, set[str]]] = {column: {} for column in columns}
    failed: dict[OverviewColumn, dict[str, set[str]]] = {column: {} for column in columns}
    everywhere: set[str] = set()
    requires: dict[str, str] = {}
    for scenario in report.scenarios:
        requires.update(scenario.requires_python)
        for (row, col), state in states(scenario).items():
            if row.package != scenario.package:
                continue
            everywhere.add(row.version)
            if state.mark in _SILENT:
                continue
            column = OverviewColumn(col.python, col.platform)
            ran[column].setdefault(row.version, set()).add(scenario.id)
            if state.failing:
                failed[column].setdefault(row.version, set()).add(scenario.id)
    ordered = sorted(everywhere, key=version_key)
    return tuple(
        _verdict(column, ran[column], failed[column], ordered, requires, len(report.scenarios))
        for column in columns
    )


def _verdict(
    column: OverviewColumn,
    ran: Mapping[str, set[str]],
    failed: Mapping[str, set[str]],
    ordered: Sequence[str],
    requires: Mapping[str, str],
    scenarios: int,
) -> PythonVerdict:
    clean = [v for v in ordered if v in ran and v not in failed]
    newest = clean[-1] if clean else None
    newer = ordered[ordered.index(newest) + 1 :] if newest else list(ordered)
    unsupported = [v for v in newer if not supports(requires.get(v), column.python)]
    not_run = [v for v in newer if v not in ran and v not in unsupported]
    return PythonVerdict(
        column=column,
        newest_clean=newest,
        scenarios_ran=len(ran.get(newest, ())) if newest else 0,
        scenarios=scenarios,
        newer_not_run=(not_run[0], not_run[-1]) if not_run else None,
        first_unsupported=unsupported[0] if unsupported else None,
        newer_failing=tuple((v, tuple(sorted(failed[v]))) for v in newer if v in failed),
    )


def build_overview(report: Report) -> Overview:
    """Every scenario's tracks by overview column, and each column's verdict (once)."""
    found: Overview | None = report.derived.get("overview")
    if found is None:
        found = report.derived["overview"] = _build_overview(report)
    return found


def _build_overview(report: Report) -> Overview:
    columns = _columns(report)
    tracks: dict[str, dict[OverviewColumn, tuple[Track, ...]]] = {}
    for scenario in report.scenarios:
        own: dict[OverviewColumn, list[Track]] = {}
        for track in scenario_tracks(scenario):
            own.setdefault(OverviewColumn(track.python, track.platform), []).append(track)
        tracks[scenario.id] = {column: tuple(found) for column, found in own.items()}
    return Overview(columns, tracks, _verdicts(report, columns))


def run_command(python: str, scenario: str | None = None, versions: str | None = None) -> str:
    """The command that runs what the report did not (shown next to a gap)."""
    parts = ["python -m harness run"]
    if scenario:
        parts.append(f"--scenario {scenario}")
    parts.append(f"--python {python}")
    if versions:
        parts.append(f"--versions '{versions}'")
    return " ".join(parts)
