"""Markdown for a pull-request comment or a CI job summary.

Compact: a summary table, then per scenario its claims and a grid of releases x
(python, platform).  A pull-request comment holds about 65,000 characters, so
when the grids would not fit, the scenarios where everything is as expected
are reduced to their summary line.  Captured text is escaped: GitHub renders
inline HTML and table pipes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness.outcomes import style_of
from harness.reports.html import outcome_word
from harness.reports.model import Report, ScenarioReport

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
BUDGET_CHARS = 60_000
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: str) -> str:
    """Inline text that renders as itself: no markup, no HTML, no table breaks."""
    text = " ".join(text.split())
    return _SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def _cell(outcome: str, expected: bool) -> str:
    style = style_of(outcome)
    text = f"{style.symbol} {style.word}"
    return text if expected else f"**{text} !**"


def _counts(scenario: ScenarioReport) -> str:
    return ", ".join(
        f"{n} {outcome_word(outcome)}" for outcome, n in sorted(scenario.counts().items())
    )


def _summary_table(report: Report) -> list[str]:
    lines = [
        "| scenario | cells | outcomes | unexpected | claims |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for scenario in report.scenarios:
        claims = "; ".join(f"{md(c.signature)}: **{md(c.verdict)}**" for c in scenario.claims)
        unexpected = len(scenario.unexpected)
        lines.append(
            f"| {md(scenario.id)} | {len(scenario.cells)} | {md(_counts(scenario))} | "
            f"{f'**{unexpected}**' if unexpected else 0} | {claims or '-'} |"
        )
    return lines


@dataclass(frozen=True)
class _Detail:
    """How much of each scenario to show; the first level that fits the budget wins."""

    grids: str  # "all", "regressed" (their scenarios only), "unexpected rows", "none"
    unexpected_listed: int | None = None
    note: str = ""


_LEVELS = (
    _Detail("all"),
    _Detail(
        "regressed",
        note="Grids of scenarios where every cell is as expected are left out to fit a "
        "comment; the HTML report has them all.",
    ),
    _Detail(
        "unexpected rows",
        unexpected_listed=10,
        note="Only the releases with an unexpected cell are drawn, to fit a comment; "
        "the HTML report has every cell.",
    ),
    _Detail(
        "none",
        unexpected_listed=3,
        note="No grid is drawn, to fit a comment; the HTML report has every cell.",
    ),
)


def _grid(scenario: ScenarioReport, all_rows: bool) -> list[str]:
    header = [md(scenario.package)] + [md(column.label) for column in scenario.columns]
    lines = ["| " + " | ".join(header) + " |", "| --- " * len(header) + "|"]
    for row in scenario.rows:
        cells = [scenario.grid.get((row, column)) for column in scenario.columns]
        if not all_rows and all(cell is None or cell.expected for cell in cells):
            continue
        shown = [_cell(cell.outcome, cell.expected) if cell else "·" for cell in cells]
        lines.append("| " + " | ".join([md(row.version), *shown]) + " |")
    return [*lines, ""]


def _scenario(scenario: ScenarioReport, detail: _Detail) -> list[str]:
    lines = ["", f"### {md(scenario.id)}: {md(scenario.title)}", ""]
    links = [
        f"[{label}](<{url}>)"
        for label, url in (("issue", scenario.issue), ("fix", scenario.fix))
        if url
    ]
    if links:
        lines += [" · ".join(links), ""]
    for claim in scenario.claims:
        lines.append(
            f"- claim `{claim.signature}` ({md(claim.claim)}; {md(', '.join(claim.platforms))}): "
            f"**{md(claim.verdict)}**: {md(claim.detail)}"
            + (f" (observed: {md(claim.observed())})" if claim.ranges else "")
        )
    if scenario.claims:
        lines.append("")
    if detail.grids == "all" or (detail.grids != "none" and scenario.regressed):
        lines += _grid(scenario, all_rows=detail.grids != "unexpected rows")
    elif not scenario.regressed:
        lines += [f"{len(scenario.cells)} cell(s), all as expected: {md(_counts(scenario))}.", ""]
    unexpected = scenario.unexpected
    listed = (
        unexpected if detail.unexpected_listed is None else unexpected[: detail.unexpected_listed]
    )
    for cell in listed:
        shown = cell.effective()
        why = ", ".join(shown.signatures) or shown.fingerprint or shown.reason
        lines.append(
            f"- **unexpected** {md(shown.version)} py{md(shown.python)} {md(shown.platform)}: "
            f"{md(outcome_word(shown.outcome))}: {md(why[:300])}"
        )
    if len(listed) < len(unexpected):
        lines.append(f"- … and {len(unexpected) - len(listed)} more unexpected cell(s)")
    return lines


def render_markdown(report: Report, budget: int = BUDGET_CHARS) -> str:
    """The summary, then as much per-scenario detail as fits in `budget` characters."""
    summary = report.summary()
    title = f"## Regression harness: {summary['cells']} cell(s), {summary['unexpected']} unexpected"
    head = [title, ""]
    if not report.complete:
        head += ["**INCOMPLETE:** at least one run was interrupted.", ""]
    if summary["regressed"]:
        head += ["Regressed: " + ", ".join(f"**{md(s)}**" for s in summary["regressed"]), ""]
    head += _summary_table(report)
    notes = [f"_{md(note)}_" for note in report.notes]
    text = ""
    for detail in _LEVELS:
        body = [line for s in report.scenarios for line in _scenario(s, detail)]
        ending = [*notes, f"_{detail.note}_"] if detail.note else notes
        text = "\n".join([*head, *body, "", *ending]).rstrip() + "\n"
        if len(text) <= budget:
            break
    return text


def append_to_step_summary(markdown: str) -> Path | None:
    """Append to the CI job summary when `GITHUB_STEP_SUMMARY` names a file."""
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown + "\n")
    return path
