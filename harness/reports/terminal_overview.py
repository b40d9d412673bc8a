"""The terminal summary after a run: which releases are safe, per scenario, in 80 columns.

One block per scenario: a header (cells, claims), then its release ranges.
When every Python that ran a release saw the same thing (most scenarios), one
line of ranges stands for all of them; otherwise one line per Python.  Ranges
are never split inside: a line breaks between them.  Then a one-line legend of
the marks shown, the newest release with no known failure per Python, the
totals, and every unexpected cell with its full fingerprint and where its
evidence is.  The full cell matrix is `--matrix full` (`terminal.render_matrix`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from harness.outcomes import Gap, Outcome, style_of
from harness.reports.links import Link
from harness.reports.model import Report, ScenarioReport
from harness.reports.overview import (
    DASH,
    PythonVerdict,
    Span,
    agreed,
    build_overview,
    cell_anchor,
    run_command,
    scenario_tracks,
    span_issue,
)
from harness.reports.terminal import unfaithful_notes

#: The longest failure detail drawn inside a range (the full one is listed below).
DETAIL_CHARS = 40
#: At most this many ranges on one Python's line; beyond, the failing ones.
MAX_SPANS = 12
_INDENT = 2
_GAP_WORDS = {Gap.NOT_RUN.value: "not run", Gap.NOT_SUPPORTED.value: "unsupported"}


def _short(text: str, limit: int = DETAIL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span_text(span: Span, issue: Link | None = None) -> Text:
    """`✓ 0.14.0-0.55.0` (an en dash), `✗ 0.13.4 port0-getpeername-enotconn #974`."""
    state = span.state
    style = style_of(state.mark)
    text = Text(f"{style.symbol} {span.label}", style=style.colour)
    if state.failing and state.detail:
        text.append(f" {_short(state.detail)}", style="dim")
    if issue is not None:
        text.append(f" {issue.short}", style="dim")
    if state.mark in _GAP_WORDS:
        text.append(f" {_GAP_WORDS[state.mark]}", style="dim")
    if not state.expected:
        text.append(" !", style="bold red")
    return text


def _wrapped(label: str, label_width: int, units: Sequence[Text], width: int) -> list[Text]:
    """`label` then the units, separated by two spaces, broken between units only."""
    lead = " " * _INDENT + label.ljust(label_width) + "  "
    lines: list[Text] = []
    line = Text(lead)
    filled = False
    for unit in units:
        if filled and line.cell_len + 2 + unit.cell_len > width:
            lines.append(line)
            line = Text(" " * len(lead))
            filled = False
        if filled:
            line.append("  ")
        line.append_text(unit)
        filled = True
    lines.append(line)
    for text in lines:
        text.truncate(width, overflow="ellipsis")
    return lines


def _units(scenario: ScenarioReport, spans: Sequence[Span]) -> list[Text]:
    """A track's ranges; a history too fragmented to glance at (more than
    `MAX_SPANS` ranges) shows its failing ranges and counts the rest."""
    if len(spans) > MAX_SPANS:
        shown = [s for s in spans if s.state.failing or not s.state.expected][:MAX_SPANS]
        rest = Text(f"+{len(spans) - len(shown)} more ranges (--matrix full)", style="dim")
        return [*(span_text(s, span_issue(scenario, s)) for s in shown), rest]
    return [span_text(s, span_issue(scenario, s)) for s in spans]


def _claims(scenario: ScenarioReport) -> str:
    counts: dict[str, int] = {}
    for claim in scenario.claims:
        counts[claim.verdict] = counts.get(claim.verdict, 0) + 1
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items())


def scenario_block(scenario: ScenarioReport, width: int, platforms: int) -> list[Text]:
    header = Text(scenario.id, style="bold")
    count = len(scenario.cells)
    header.append(f"  {count} cell{'' if count == 1 else 's'}")
    claims = _claims(scenario)
    if claims:
        header.append(f"  claims: {claims}", style="dim")
    if scenario.regressed:
        header.append("  REGRESSED", style="bold red")
    header.truncate(width, overflow="ellipsis")
    rows: list[tuple[str, list[Text]]] = []
    tracks = agreed(scenario)
    if tracks is not None:
        for track in tracks:
            label = " ".join(filter(None, [f"py{track.python_label}", track.variant]))
            if platforms > 1:
                label += f" {track.platform}"
            rows.append((label, _units(scenario, track.spans)))
    else:
        for column in scenario_tracks(scenario):
            label = " ".join(filter(None, [f"py{column.python}", column.variant]))
            if platforms > 1:
                label += f" {column.platform}"
            rows.append((label, _units(scenario, column.spans)))
    label_width = min(max((len(label) for label, _ in rows), default=0), 12)
    lines = [header]
    for label, units in rows:
        if len(label) > label_width:
            lines.append(Text(" " * _INDENT + label, style="dim"))
            label = ""
        lines.extend(_wrapped(label, label_width, units, width))
    lines.extend(unfaithful_notes([cell.effective() for cell in scenario.cells]))
    for claim in scenario.contradicted:
        lines.append(
            Text(
                f"  claim {claim.signature} ({claim.claim}): {claim.verdict}: {claim.detail}",
                style="bold red",
            )
        )
    return lines


def _legend(report: Report, width: int) -> Text:
    marks: dict[str, None] = {}
    unexpected = False
    for scenario in report.scenarios:
        for track in scenario_tracks(scenario):
            for span in track.spans:
                marks.setdefault(span.state.mark)
                unexpected = unexpected or not span.state.expected
    order = [*(o.value for o in Outcome), *(g.value for g in Gap)]
    text = Text("legend:")
    for mark in sorted(marks, key=lambda m: order.index(m) if m in order else len(order)):
        style = style_of(mark)
        text.append(f"  {style.symbol} ", style=style.colour)
        text.append(_GAP_WORDS.get(mark, style.word))
    if unexpected:
        text.append("  ! ", style="bold red")
        text.append("unexpected")
    ranges = f"  a{DASH}b: tested from a to b"
    if text.cell_len + len(ranges) <= width:
        text.append(ranges)
    return text


def verdict_line(verdict: PythonVerdict) -> str:
    """`3.12  0.55.0  15 of 17 scenarios ran it`, and what is newer but not known."""
    text = f"{verdict.column.label:<6} "
    if verdict.newest_clean is None:
        return text + "none: every release run here failed somewhere"
    text += f"{verdict.newest_clean:<8} {verdict.scenarios_ran} of {verdict.scenarios} ran it"
    if verdict.newer_failing:
        version, scenarios = verdict.newer_failing[-1]
        text += f"; {version} fails {scenarios[0]}"
        text += f" (+{len(scenarios) - 1})" if len(scenarios) > 1 else ""
    if verdict.newer_not_run:
        first, last = verdict.newer_not_run
        text += f"; {first if first == last else first + DASH + last} not run here"
    if verdict.first_unsupported:
        text += f"; {verdict.first_unsupported} and newer do not support it"
    return text


def _unexpected(report: Report, html: Path | None) -> list[Text]:
    lines = []
    for scenario in report.scenarios:
        for cell in scenario.unexpected:
            shown = cell.effective()
            style = style_of(shown.outcome)
            variant = f" {shown.variant}" if shown.variant else ""
            line = Text("unexpected ", style="bold red")
            line.append(
                f"{shown.scenario} {shown.package} {shown.version} py{shown.python} "
                f"{shown.platform}{variant}: "
            )
            line.append(f"{style.symbol} {style.word}", style=style.colour)
            lines.append(line)
            lines.append(Text(f"  reason: {shown.reason}"))
            if shown.signature:
                lines.append(Text(f"  signature: {shown.signature}"))
            if shown.fingerprint:
                lines.append(Text(f"  fingerprint: {shown.fingerprint}"))
            sources = ", ".join(dict.fromkeys(o.source for o in cell.observations))
            lines.append(Text(f"  evidence: {sources} (this cell's output_tail)"))
            if html is not None:
                lines.append(Text(f"  evidence in the page: {html}#{cell_anchor(cell)}"))
    return lines


def render_overview(console: Console, report: Report, html: Path | None = None) -> None:
    """The summary a run ends with (see the module docstring), printed at once."""
    width = console.width
    platforms = len({c.platform for s in report.scenarios for c in s.columns})
    lines: list[Text] = []
    for scenario in report.scenarios:
        lines.extend(scenario_block(scenario, width, platforms))
    lines.append(_legend(report, width))
    overview = build_overview(report)
    if overview.verdicts:
        lines.append(Text("newest release with no known failure, per Python:"))
        lines.extend(Text("  " + verdict_line(verdict)) for verdict in overview.verdicts)
        if any(v.newer_not_run or v.scenarios_ran < v.scenarios for v in overview.verdicts):
            lines.append(Text(f"  to run every scenario on your Python: {run_command('X.Y')}"))
    summary = report.summary()
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary["outcomes"].items()))
    totals = Text(f"{summary['cells']} cell(s): {counts}; ")
    gated = summary["unexpected"]
    totals.append(f"{gated} unexpected", style="bold red" if gated else "green")
    ungated = summary.get("unexpected_not_gated", 0)
    if ungated:
        totals.append(f" (+{ungated} in cells added for claims, not gated)")
    if not report.complete:
        totals.append(" (INCOMPLETE: interrupted)", style="bold red")
    lines.append(totals)
    lines.extend(_unexpected(report, html))
    # One print, of lines already fitted to the width (long ones broken between
    # words here): rich's per-call and wrapping costs add up over thousands of lines.
    fitted = [part for line in lines for part in _fit(console, line, width)]
    console.print(Text("\n").join(fitted), highlight=False, soft_wrap=True)


def _fit(console: Console, line: Text, width: int) -> list[Text]:
    """`line` as lines no wider than `width`, broken between words (only a word
    longer than the width, e.g. a path, is folded)."""
    if line.cell_len <= width:
        return [line]
    return list(line.wrap(console, width))
