"""Markdown for a pull-request comment or a CI job summary: the verdict first.

A reviewer reads: the verdict; the overview (one row per scenario, the release
ranges merged, as the HTML page draws them); what failed, with upstream links,
and every unexpected cell with why.  Claims and notes are folded into
`<details>`.  The default run's comment stays under 10 KB: the lists are cut
to fit, with a count of what was left out.  Captured
text is escaped: GitHub renders inline HTML and table pipes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from harness.outcomes import Gap, Outcome, style_of
from harness.reports.html import outcome_word
from harness.reports.links import upstream_links
from harness.reports.model import Report, ScenarioReport
from harness.reports.overview import (
    DASH,
    Span,
    agreed,
    build_overview,
    scenario_tracks,
    span_issue,
)

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
BUDGET_CHARS = 10_000
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_DETAIL = 48
_UNLINKABLE = re.compile(r"[\s<>\\]")


def md(text: str) -> str:
    """Inline text that renders as itself: no markup, no HTML, no table breaks."""
    text = " ".join(text.split())
    return _SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def _short(text: str, limit: int = _DETAIL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Refs:
    """Reference-style links: each URL is written once, at the end of the comment,
    however many ranges and lines point at it (a comment has a size budget)."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}

    def link(self, label: str, url: str) -> str:
        if _UNLINKABLE.search(url):  # would end the <...> of its definition
            return md(label)
        ref = self.urls.setdefault(url, f"r{len(self.urls) + 1}")
        return f"[{md(label)}][{ref}]"

    def definitions(self) -> list[str]:
        return [f"[{ref}]: <{url}>" for url, ref in self.urls.items()]


def _span(scenario: ScenarioReport, span: Span, refs: _Refs) -> str:
    """`✓ 0.14.0-0.55.0` (an en dash), `✗ 0.13.4 port0-… [#974](url)`, `· 0.22.0`."""
    style = style_of(span.state.mark)
    text = f"{style.symbol} {span.label}"
    if span.state.failing and span.state.detail:
        text += f" {md(_short(span.state.detail))}"
    issue = span_issue(scenario, span)
    if issue is not None:
        text += " " + refs.link(issue.short, issue.url)
    shown = f"**{text}**" if span.state.failing else text
    return shown + (" **!**" if not span.state.expected else "")


def _spans(scenario: ScenarioReport, spans: Sequence[Span], failing_only: bool, refs: _Refs) -> str:
    if not failing_only:
        return " · ".join(_span(scenario, span, refs) for span in spans)
    shown = [_span(scenario, span, refs) for span in spans if span.state.failing]
    rest = len(spans) - len(shown)
    return " · ".join([*shown, f"{rest} other range(s)"] if rest else shown)


def _ranges(scenario: ScenarioReport, failing_only: bool, refs: _Refs) -> str:
    """The overview cell: one line when all Pythons agree, else a line per Python;
    `failing_only` draws the failing ranges and counts the others (a large report)."""
    lines = []
    tracks = agreed(scenario)
    if tracks is not None:
        for track in tracks:
            label = " ".join(filter(None, [track.python_label, track.variant]))
            lines.append(f"{md(label)}: {_spans(scenario, track.spans, failing_only, refs)}")
    else:
        for column in scenario_tracks(scenario):
            label = " ".join(filter(None, [column.python, column.variant]))
            lines.append(f"{md(label)}: {_spans(scenario, column.spans, failing_only, refs)}")
    return "<br>".join(lines)


def _verdict(report: Report) -> list[str]:
    summary = report.summary()
    regressed = summary["regressed"]
    if not report.complete:
        head = "⚠️ INCOMPLETE: at least one run was interrupted"
    elif regressed:
        head = f"❌ regression in {len(regressed)} scenario(s)"
    else:
        head = "✅ no regression"
    lines = [
        f"## {head}: {summary['cells']} cell(s), {summary['unexpected']} unexpected",
        "",
    ]
    if regressed:
        lines += ["Regressed: " + ", ".join(f"**{md(s)}**" for s in regressed), ""]
    return lines


def _overview(report: Report, budget: int, refs: _Refs) -> list[str]:
    """The table; in a report too large for a comment, failing ranges only, then
    as many rows as fit."""
    lines = [
        f"| scenario | releases tested, merged into ranges (a{DASH}b: every release tested "
        "from a to b) |",
        "| --- | --- |",
    ]
    rows = [_row(scenario, False, refs) for scenario in report.scenarios]
    if sum(len(row.encode()) + 1 for row in rows) > budget:
        refs.urls.clear()
        rows = [_row(scenario, True, refs) for scenario in report.scenarios]
    lines += _fitting(rows, budget, what="scenario(s)")
    newest = [
        f"{md(v.column.label)} **{md(v.newest_clean)}**"
        for v in build_overview(report).verdicts
        if v.newest_clean
    ]
    if newest:
        lines += ["", "Newest release with no known failure, per Python: " + " · ".join(newest)]
    return [*lines, "", _legend(report)]


def _legend(report: Report) -> str:
    """The marks the table uses, each with its word (`**!**`: unexpected)."""
    order = [*(o.value for o in Outcome), *(g.value for g in Gap)]
    marks = {
        span.state.mark
        for scenario in report.scenarios
        for track in scenario_tracks(scenario)
        for span in track.spans
    }
    words = [
        f"{style_of(mark).symbol} {style_of(mark).label}"
        for mark in sorted(marks, key=lambda m: order.index(m) if m in order else len(order))
    ]
    return "_Marks:_ " + md(" · ".join([*words, "! unexpected"]))


def _row(scenario: ScenarioReport, failing_only: bool, refs: _Refs) -> str:
    flag = " **regressed**" if scenario.regressed else ""
    return f"| {md(scenario.id)}{flag} | {_ranges(scenario, failing_only, refs)} |"


def _failing(report: Report, refs: _Refs) -> list[str]:
    """Unexpected cells (with why), then known failures by range (with their links)."""
    lines = []
    for scenario in report.scenarios:
        for cell in scenario.unexpected:
            shown = cell.effective()
            why = shown.signature or shown.fingerprint or shown.reason
            variant = f" {shown.variant}" if shown.variant else ""
            lines.append(
                f"- **unexpected** {md(scenario.id)} {md(shown.version)} py{md(shown.python)} "
                f"{md(shown.platform)}{md(variant)}: {md(outcome_word(shown.outcome))}: "
                f"{md(why[:300])}"
            )
    for scenario in report.scenarios:
        links = upstream_links(scenario.issue, scenario.fix, ())
        about = ", ".join(refs.link(link.label, link.url) for link in links)
        for track in agreed(scenario) or []:
            where = " ".join(filter(None, [f"py{track.python_label}", track.variant]))
            for span in track.spans:
                if not span.state.failing or not span.state.expected:
                    continue
                own = about and span.state.detail in scenario.issue_signatures
                lines.append(
                    f"- {style_of(span.state.mark).symbol} {md(scenario.id)} {span.label} "
                    f"({md(where)}): {md(span.state.detail)}" + (f"; {about}" if own else "")
                )
    return lines


def _claims(report: Report) -> list[str]:
    lines = []
    for scenario in report.scenarios:
        for claim in scenario.claims:
            lines.append(
                f"- {md(scenario.id)} `{md(claim.signature)}` ({md(claim.claim)}; "
                f"{md(', '.join(claim.platforms))}): **{md(claim.verdict)}**: "
                f"{md(_short(claim.detail, 110))}"
                + (f" (observed: {md(claim.observed())})" if claim.ranges else "")
            )
    return lines


def _folded(summary: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    return ["", f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def _fitting(lines: list[str], room: int, what: str = "more") -> list[str]:
    """As many of `lines` as fit in `room` bytes, and a count of the rest."""
    kept: list[str] = []
    used = 0
    for number, line in enumerate(lines):
        size = len(line.encode()) + 1
        if used + size > room - 80:
            rest = f"… and {len(lines) - number} {what} (the HTML report has them all)"
            return [*kept, f"| {rest} | |" if line.startswith("|") else f"- {rest}"]
        kept.append(line)
        used += size
    return kept


def render_markdown(report: Report, budget: int = BUDGET_CHARS) -> str:
    """The verdict, the overview, what failed; claims and notes folded; within `budget`
    bytes when the overview fits (the folded parts and the lists give way first)."""
    refs = _Refs()
    claims = _claims(report)
    notes = [f"- {md(note)}" for note in report.notes]
    body = [*_verdict(report), *_overview(report, budget * 6 // 10, refs)]
    failing = _failing(report, refs)  # every link is registered: the room below counts them

    def room(reserve: int) -> int:
        used = len("\n".join([*body, *refs.definitions()]).encode())
        return budget - used - reserve

    if failing:
        body += ["", "### Failing and unexpected", "", *_fitting(failing, room(40))]
    for title, lines in (
        (f"Claims checked ({len(claims)})", claims),
        (f"Notes ({len(notes)})", notes),
    ):
        if lines and room(80) > 200:
            body += _folded(title, _fitting(lines, room(80)))
    if refs.urls:
        body += ["", *refs.definitions()]
    return "\n".join(body).rstrip() + "\n"


def append_to_step_summary(markdown: str) -> Path | None:
    """Append to the CI job summary when `GITHUB_STEP_SUMMARY` names a file."""
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown + "\n")
    return path
