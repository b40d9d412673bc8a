"""The HTML compatibility table: one self-contained file, readable without JavaScript.

Everything a server printed is untrusted text.  It only reaches the page
through Jinja2 with autoescaping on, so `<script>` in a traceback is shown, not
run.  Styles and the small filter script are inlined from package files: the
page needs no network to be viewed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.atomic import write_text_atomic
from harness.judge.claims import CONFIRMED, CONTRADICTED, REFINED
from harness.judge.classify import last_exception
from harness.outcomes import Outcome, style_of
from harness.reports.merge import FileRecord, MergedCell, version_key
from harness.reports.model import Report, ScenarioReport
from harness.reports.repro import FAILING, cell_name, write_scripts

if TYPE_CHECKING:
    import jinja2

_VERDICT_CLASS = {CONFIRMED: "confirmed", REFINED: "refined", CONTRADICTED: "contradicted"}


def outcome_symbol(outcome: str) -> str:
    return style_of(outcome).symbol


def outcome_word(outcome: str) -> str:
    return style_of(outcome).label


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # only runs that write HTML pay for it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["symbol"] = outcome_symbol
    env.filters["word"] = outcome_word
    return env


@dataclass(frozen=True)
class Evidence:
    """What one observation of a cell saw, for the expanded cell."""

    source: str
    outcome: str
    expected: bool
    reason: str
    signature: str | None
    signature_description: str
    #: Further signatures that matched, besides `signature`.
    also_matched: tuple[str, ...]
    fingerprint: str | None
    exception: str | None
    exit_code: int | None
    duration_s: float
    python_full: str | None
    backend: str | None
    resolved: str
    stop: str | None
    address: str | None
    checks: tuple[tuple[str, bool, str], ...]
    output_tail: str
    #: The cell's name for `python -m harness repro` (failing cells only).
    repro: str = ""


@dataclass(frozen=True)
class CellView:
    id: str
    column: int
    outcome: str
    expected: bool
    python: str
    platform: str
    label: str
    evidence: tuple[Evidence, ...]


def _evidence(observation: FileRecord, signatures: Mapping[str, str]) -> Evidence:
    cell = observation.cell
    checks = tuple(
        (str(check.get("name", "")), bool(check.get("ok")), str(check.get("detail") or ""))
        for check in cell.checks
    )
    return Evidence(
        source=observation.source,
        outcome=cell.outcome,
        expected=cell.expected,
        reason=cell.reason,
        signature=cell.signature,
        signature_description=signatures.get(cell.signature or "", ""),
        also_matched=cell.also_matched,
        fingerprint=cell.fingerprint,
        exception=None if cell.outcome == Outcome.PASS else last_exception(cell.output_tail),
        exit_code=cell.exit_code,
        duration_s=cell.duration_s,
        python_full=cell.python_full,
        backend=cell.backend,
        resolved=", ".join(f"{name}=={version}" for name, version in sorted(cell.resolved.items())),
        stop=cell.stop,
        address=cell.address,
        checks=checks,
        output_tail=cell.output_tail,
        repro=cell_name(cell) if cell.outcome in FAILING else "",
    )


def _cell_view(cell: MergedCell, ident: str, column: int, scenario: ScenarioReport) -> CellView:
    first = cell.first
    label = f"{first.package} {first.version} · py{first.python} {first.platform}"
    if first.variant:
        label += f" {first.variant}"
    return CellView(
        id=ident,
        column=column,
        outcome=cell.outcome,
        expected=cell.expected,
        python=first.python,
        platform=first.platform,
        label=label,
        evidence=tuple(_evidence(o, scenario.signatures) for o in cell.observations),
    )


def _scenario_view(scenario: ScenarioReport, index: int) -> dict[str, Any]:
    rows = []
    for row_number, row in enumerate(scenario.rows):
        cells: list[CellView | None] = []
        for column_number, column in enumerate(scenario.columns):
            cell = scenario.grid.get((row, column))
            ident = f"s{index}-r{row_number}-c{column_number}"
            cells.append(_cell_view(cell, ident, column_number, scenario) if cell else None)
        label = row.version if row.package == scenario.package else f"{row.package} {row.version}"
        rows.append({"label": label, "cells": cells})
    return {
        "report": scenario,
        "anchor": f"scenario-{index}",
        "rows": rows,
        "counts": sorted(scenario.counts().items(), key=lambda item: _outcome_order(item[0])),
        "claims": [
            {"verdict": claim, "css": _VERDICT_CLASS.get(claim.verdict, "unverifiable")}
            for claim in scenario.claims
        ],
    }


def _outcome_order(outcome: str) -> int:
    order = [outcome.value for outcome in Outcome]
    return order.index(outcome) if outcome in order else len(order)


def render_html(
    report: Report, title: str | None = None, scripts: Mapping[str, str] | None = None
) -> str:
    """The whole page as one string."""
    summary = report.summary()
    scenarios = [_scenario_view(s, i) for i, s in enumerate(report.scenarios)]
    packages = sorted({s.package for s in report.scenarios if s.package})
    cells = report.cells
    context = {
        "title": title or f"Regression report: {', '.join(packages) or 'no package'}",
        "summary": summary,
        "outcome_counts": sorted(summary["outcomes"].items(), key=lambda i: _outcome_order(i[0])),
        "legend": [outcome.value for outcome in Outcome],
        "regressed": [
            (s, v["anchor"])
            for s, v in zip(report.scenarios, scenarios, strict=True)
            if s.regressed
        ],
        "scenarios": scenarios,
        "sources": report.sources,
        "notes": report.notes,
        "complete": report.complete,
        "filter_outcomes": sorted({c.outcome for c in cells}, key=_outcome_order),
        "filter_pythons": sorted({c.first.python for c in cells}, key=version_key),
        "filter_platforms": sorted({c.first.platform for c in cells}),
        "scripts": dict(scripts or {}),
    }
    return _environment().get_template("report.html.j2").render(context)


def write_html(path: Path, report: Report) -> None:
    """The page, and beside it `repro/` with a script per failing cell (known scenarios)."""
    known = {s.id: s.scenario for s in report.scenarios if s.scenario is not None}
    observed = [o.cell for c in report.cells for o in c.observations]
    scripts = write_scripts(path.parent / "repro", observed, known) if known else {}
    write_text_atomic(path, render_html(report, scripts=scripts))
