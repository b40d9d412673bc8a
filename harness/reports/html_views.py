"""What the HTML page draws of the overview: spans, per-Python verdicts, track rows.

The page's answer to "which releases are safe on my Python": for each scenario
and Python, the release ranges (`overview.Span`) with their marks, the failing
ones linked to the upstream issue and to their evidence, and the gaps with the
command that would fill them.  Values only: the template escapes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.outcomes import Gap, Outcome, style_of
from harness.reports.links import Link, upstream_links
from harness.reports.model import Column, Report, ScenarioReport
from harness.reports.overview import (
    DASH,
    Overview,
    OverviewColumn,
    PythonVerdict,
    Span,
    Track,
    agreed,
    build_overview,
    cell_anchor,
    column_track,
    run_command,
    scenario_tracks,
    span_issue,
)

_GAP_WORDS = {
    Gap.NOT_RUN.value: "not run",
    Gap.NOT_SUPPORTED.value: "not supported",
    Gap.NOT_APPLICABLE.value: "not applicable",
    Outcome.SKIP.value: "skipped",
}


@dataclass(frozen=True)
class SpanView:
    css: str
    symbol: str
    #: The releases: `0.13.4`, or first and last joined by an en dash.
    label: str
    #: A gap's or a skip's word ("not run"); empty for outcomes.
    word: str
    #: A failure's signature or fingerprint (short).
    detail: str
    #: The tooltip: what the mark means here, the releases tested, a gap's command.
    title: str
    issue: Link | None
    #: The id of the first cell's evidence, for failures.
    evidence: str | None
    unexpected: bool
    failing: bool = False


@dataclass(frozen=True)
class TrackView:
    """One line of spans: a label (Python, variant) and its spans."""

    label: str
    python: str
    spans: tuple[SpanView, ...]
    #: Ranges left out of an overview cell (a history too fragmented to glance at),
    #: and the scenario section that has them all.
    more: int = 0
    more_href: str = ""


#: An overview cell draws at most this many ranges per line; beyond, the failing
#: ones first, and a link to the scenario's section for the rest.
MAX_OVERVIEW_SPANS = 8


def shortened(view: TrackView, anchor: str) -> TrackView:
    """`view` for the overview: at most `MAX_OVERVIEW_SPANS` ranges, failing first."""
    if len(view.spans) <= MAX_OVERVIEW_SPANS:
        return view
    failing = [span for span in view.spans if span.failing or span.unexpected]
    kept = tuple((failing or list(view.spans))[:MAX_OVERVIEW_SPANS])
    return replace(view, spans=kept, more=len(view.spans) - len(kept), more_href=f"#{anchor}")


@dataclass(frozen=True)
class OverviewCell:
    python: str
    tracks: tuple[TrackView, ...]
    #: Nothing ran in this column: one gap over every release (drawn short).
    only_gap: bool = False


@dataclass(frozen=True)
class OverviewRow:
    scenario: ScenarioReport
    anchor: str
    links: tuple[Link, ...]
    #: Every Python that ran a release saw the same: these lines say it once.
    agreed: tuple[TrackView, ...] | None
    cells: tuple[OverviewCell, ...]

    @property
    def not_run_on(self) -> list[str]:
        return [cell.python for cell in self.cells if cell.only_gap]


@dataclass(frozen=True)
class VerdictView:
    python: str
    label: str
    newest: str | None
    ran: str
    notes: tuple[str, ...]
    command: str | None


def scenario_anchor(scenario_id: str) -> str:
    """The section's id: the scenario's own id (ids are slugs; others are escaped)."""
    return f"scenario-{scenario_id}"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span_view(scenario: ScenarioReport, span: Span, python: str) -> SpanView:
    state = span.state
    style = style_of(state.mark)
    tested = len(span.versions)
    title = f"{style.label}: {span.label}"
    if tested > 1:
        title += f" ({tested} releases tested: {', '.join(span.versions)})"
    issue = None
    evidence = None
    detail = ""
    if state.failing:
        detail = _short(state.detail)
        description = scenario.signatures.get(state.detail, "")
        if description:
            title += f": {description}"
        issue = span_issue(scenario, span)
        evidence = cell_anchor(span.cells[0]) if span.cells else None
    elif state.mark == Gap.NOT_RUN.value:
        title += f"; to run them: {run_command(python, scenario.id, span.specifier)}"
    elif span.note:
        title += f": {span.note}"
    if not state.expected:
        title += " (UNEXPECTED)"
    css = f"g-{state.mark}" if state.mark in {g.value for g in Gap} else f"o-{state.mark}"
    return SpanView(
        css=css,
        symbol=style.symbol,
        label=span.label,
        word=_GAP_WORDS.get(state.mark, ""),
        detail=detail,
        title=title,
        issue=issue,
        evidence=evidence,
        unexpected=not state.expected,
        failing=state.failing,
    )


def _track_view(scenario: ScenarioReport, track: Track, label: str) -> TrackView:
    spans = tuple(span_view(scenario, span, track.python) for span in track.spans)
    return TrackView(label, track.python, spans)


def agreed_views(scenario: ScenarioReport, prefix: str = "Python ") -> list[TrackView] | None:
    """One line per platform and variant for all Pythons, when they agree."""
    tracks = agreed(scenario)
    if tracks is None:
        return None
    views = []
    several = len({track.platform for track in tracks}) > 1
    for found in tracks:
        platform = found.platform if several else ""
        label = " ".join(filter(None, [prefix + found.python_label, platform, found.variant]))
        spans = tuple(span_view(scenario, s, found.pythons[-1]) for s in found.spans)
        views.append(TrackView(label, found.python_label, spans))
    return views


def scenario_track_views(scenario: ScenarioReport) -> tuple[list[TrackView], bool]:
    """The section's ranges: one line for all Pythons when they agree, else one per
    Python; and whether they agreed."""
    views = agreed_views(scenario)
    if views is not None:
        return views, True
    return [
        _track_view(
            scenario, track, " ".join(filter(None, [track.python, track.platform, track.variant]))
        )
        for track in scenario_tracks(scenario)
    ], False


def _overview_cell(
    scenario: ScenarioReport, column: OverviewColumn, tracks: Sequence[Track]
) -> OverviewCell:
    if not tracks:
        rows = [row for row in scenario.rows if row.package == scenario.package]
        track = column_track(scenario, Column(column.python, column.platform), rows)
        if len(track.spans) == 1:  # "· not run" says it; the releases are in the title
            short = replace(span_view(scenario, track.spans[0], column.python), label="")
            return OverviewCell(column.python, (TrackView("", column.python, (short,)),), True)
        tracks = [track]
    anchor = scenario_anchor(scenario.id)
    views = tuple(shortened(_track_view(scenario, t, t.variant), anchor) for t in tracks)
    return OverviewCell(column.python, views)


def overview_rows(report: Report, overview: Overview) -> list[OverviewRow]:
    rows = []
    for scenario in report.scenarios:
        own = overview.tracks.get(scenario.id, {})
        cells = tuple(
            _overview_cell(scenario, column, own.get(column, ())) for column in overview.columns
        )
        links = tuple(upstream_links(scenario.issue, scenario.fix, ()))
        anchor = scenario_anchor(scenario.id)
        together = agreed_views(scenario, prefix="")
        agreed_row = None if together is None else tuple(shortened(v, anchor) for v in together)
        rows.append(OverviewRow(scenario, anchor, links, agreed_row, cells))
    return rows


def verdict_view(verdict: PythonVerdict) -> VerdictView:
    python = verdict.column.python
    notes = []
    for version, scenarios in verdict.newer_failing[-3:]:
        notes.append(f"{version} fails in {', '.join(scenarios)}")
    if verdict.newer_not_run:
        first, last = verdict.newer_not_run
        releases = first if first == last else f"{first}{DASH}{last}"
        notes.append(f"{releases} not run on {python} by this run")
    if verdict.first_unsupported:
        notes.append(f"{verdict.first_unsupported} and newer require another Python")
    ran = (
        f"run in {verdict.scenarios_ran} of {verdict.scenarios} scenarios"
        if verdict.newest_clean
        else "no release ran here without a failure"
    )
    # Not every scenario ran here, or newer releases did not: the command that would.
    partial = verdict.newer_not_run or verdict.scenarios_ran < verdict.scenarios
    command = run_command(python) if partial else None
    newest = verdict.newest_clean
    return VerdictView(python, verdict.column.label, newest, ran, tuple(notes), command)


def overview_context(report: Report) -> dict[str, object]:
    overview = build_overview(report)
    return {
        "columns": overview.columns,
        "rows": overview_rows(report, overview),
        "verdicts": [verdict_view(v) for v in overview.verdicts],
    }
