"""The HTML compatibility table: one self-contained file, the answer first.

The page opens on the overview ("which releases are safe on my Python"): per
scenario and Python, merged release ranges (`html_views`), the newest release
with no known failure per Python, and a legend that explains every mark.  Per
scenario below: claims, ranges, and the full cell grid folded away.

Everything a server printed is untrusted text.  Markup reaches the page only
through Jinja2 with autoescaping on; the evidence of every cell travels as one
JSON document in a `<script type="application/json">` block (with `<`, `>` and
`&` escaped, so it cannot end the block) and is turned into DOM text nodes only
when a cell is opened.  That keeps a 20,000-cell page light to load.  Styles and
script are package files inlined here: the page needs no network.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from harness.atomic import write_chunks_atomic
from harness.judge.claims import CONFIRMED, CONTRADICTED, REFINED
from harness.judge.classify import last_exception
from harness.outcomes import Gap, Outcome, style_of
from harness.reports.html_views import overview_context, scenario_anchor, scenario_track_views
from harness.reports.links import upstream_links
from harness.reports.merge import FileRecord, MergedCell, version_key
from harness.reports.model import Report, ScenarioReport
from harness.reports.overview import cell_anchor, run_command, supports
from harness.reports.repro import FAILING, cell_name, write_scripts

if TYPE_CHECKING:
    import jinja2

_VERDICT_CLASS = {CONFIRMED: "confirmed", REFINED: "refined", CONTRADICTED: "contradicted"}

LEGEND: tuple[tuple[str, str], ...] = (
    (Outcome.PASS.value, "every expectation held"),
    (Outcome.KNOWN_FAILURE.value, "a known bug reproduced (its signature matched)"),
    (Outcome.NEW_FAILURE.value, "failed, and no known signature matched"),
    (Outcome.TIMEOUT.value, "not ready, no complete response, or would not stop in time"),
    (Outcome.INSTALL_ERROR.value, "the environment could not be built"),
    (Outcome.ERROR.value, "the harness could not run the cell (e.g. its port was taken)"),
    (Outcome.FLAKY.value, "repeated attempts disagreed"),
    (Outcome.UNFAITHFUL.value, "ran where the scenario cannot reproduce (e.g. under Wine)"),
    (Outcome.CONFLICT.value, "merged results files disagree"),
    (Outcome.SKIP.value, "skipped, with a reason (e.g. a platform the scenario excludes)"),
    (Gap.NOT_RUN.value, "this run did not pair the release with this Python"),
    (Gap.NOT_SUPPORTED.value, "the release's requires-python excludes this Python"),
    (Gap.NOT_APPLICABLE.value, "the scenario does not apply to this release"),
)


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
class CellView:
    """A cell of the full grid; its evidence is in the page's JSON, by `id`."""

    id: str
    column: int
    outcome: str
    expected: bool
    symbol: str
    word: str


@dataclass(frozen=True)
class GapView:
    column: int
    mark: str
    symbol: str
    title: str


#: What the page's script shows of one observation, in this order (the evidence
#: JSON holds each observation as a list, not an object: key names would be a
#: fifth of a large page).
EVIDENCE_FIELDS = (
    "source", "outcome", "mark", "expected", "reason", "signature", "signature_description",
    "fingerprint", "exception", "exit_code", "duration", "python_full", "installed", "backend",
    "stop", "address", "checks", "tail", "also_matched", "repro", "repro_script",
)  # fmt: skip
#: Fields whose few distinct values repeat over thousands of cells: stored once in
#: the JSON's `shared` list, referred to by index.
SHARED_FIELDS = frozenset(
    {"source", "mark", "reason", "signature_description", "python_full", "installed", "backend"}
)


class _Shared:
    """The `shared` strings of the evidence JSON, numbered as they are first seen."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def ref(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))


def _evidence(
    observation: FileRecord,
    signatures: Mapping[str, str],
    shared: _Shared,
    scripts: Mapping[str, str],
) -> list[Any]:
    """What one observation of a cell saw, as the page's script shows it."""
    cell = observation.cell
    style = style_of(cell.outcome)
    found: dict[str, Any] = {
        "source": observation.source,
        "outcome": cell.outcome.value,
        "mark": f"{style.symbol} {style.label}",
        "expected": cell.expected,
        "reason": cell.reason,
        "signature": cell.signature,
        "signature_description": signatures.get(cell.signature or "", ""),
        "fingerprint": cell.fingerprint,
        "exception": None if cell.outcome == Outcome.PASS else last_exception(cell.output_tail),
        "exit_code": "none" if cell.exit_code is None else cell.exit_code,
        "duration": f"{cell.duration_s:.2f} s",
        "python_full": cell.python_full,
        "installed": ", ".join(f"{n}=={v}" for n, v in sorted(cell.resolved.items())),
        "backend": cell.backend,
        "stop": cell.stop,
        "address": cell.address,
        "checks": [
            [str(c.get("name", "")), bool(c.get("ok")), str(c.get("detail") or "")]
            for c in cell.checks
        ],
        "tail": cell.output_tail,
        "also_matched": ", ".join(cell.also_matched),
        "repro": cell_name(cell) if cell.outcome in FAILING else "",
        "repro_script": scripts.get(cell_name(cell), "") if cell.outcome in FAILING else "",
    }
    values: list[Any] = []
    for name in EVIDENCE_FIELDS:
        value = found[name]
        if value in (None, "", []):
            value = None  # the script skips absent fields
        elif name in SHARED_FIELDS:
            value = shared.ref(str(value))
        values.append(value)
    return values


def _label(cell: MergedCell) -> str:
    first = cell.first
    label = f"{first.package} {first.version} · py{first.python} {first.platform}"
    return f"{label} {first.variant}" if first.variant else label


def _gap(scenario: ScenarioReport, version: str, python: str, column: int) -> GapView:
    if supports(scenario.requires_python.get(version), python):
        title = f"not run; to run it: {run_command(python, scenario.id, version)}"
        return GapView(column, Gap.NOT_RUN.value, Gap.NOT_RUN.style.symbol, title)
    requires = scenario.requires_python.get(version)
    title = f"not supported: requires Python {requires}"
    return GapView(column, Gap.NOT_SUPPORTED.value, Gap.NOT_SUPPORTED.style.symbol, title)


#: A cell whose evidence the page carries: its id, the cell, its scenario's signatures.
EvidenceItem = tuple[str, MergedCell, Mapping[str, str]]


def _scenario_view(scenario: ScenarioReport, evidence: list[EvidenceItem]) -> dict[str, Any]:
    rows = []
    for row in scenario.rows:
        cells: list[CellView | GapView] = []
        for number, column in enumerate(scenario.columns):
            cell = scenario.grid.get((row, column))
            if cell is None:
                cells.append(_gap(scenario, row.version, column.python, number))
                continue
            ident = cell_anchor(cell)
            evidence.append((ident, cell, scenario.signatures))
            style = style_of(cell.outcome)
            mark, word = style.symbol, style.label
            cells.append(CellView(ident, number, cell.outcome, cell.expected, mark, word))
        label = row.version if row.package == scenario.package else f"{row.package} {row.version}"
        rows.append((label, cells))
    tracks, agree = scenario_track_views(scenario)
    return {
        "report": scenario,
        "anchor": scenario_anchor(scenario.id),
        "links": upstream_links(scenario.issue, scenario.fix, scenario.links),
        "tracks": tracks,
        "agree": agree,
        "grid_body": grid_body(rows),
        "counts": sorted(scenario.counts().items(), key=lambda item: _outcome_order(item[0])),
        "claims": [
            {"verdict": claim, "css": _VERDICT_CLASS.get(claim.verdict, "unverifiable")}
            for claim in scenario.claims
        ],
    }


_FLAG = ' <span class="flag">!<span class="sr"> unexpected</span></span>'


def _grid_cell(cell: CellView | GapView) -> str:
    """One element per cell: a 20,000-cell grid must stay light to load.  A cell is
    a focusable button-like `td`; its evidence opens in the page's drawer."""
    if isinstance(cell, GapView):
        return (
            f'<td class="gap g-{cell.mark}" data-col="{cell.column}" '
            f'title="{escape(cell.title)}">{cell.symbol}</td>'
        )
    unexpected = "" if cell.expected else " unexpected"
    flag = "" if cell.expected else _FLAG
    return (
        f'<td class="cell o-{cell.outcome}{unexpected}" id="{cell.id}" data-col="{cell.column}" '
        f'data-outcome="{cell.outcome}" data-unexpected="{0 if cell.expected else 1}" '
        f'tabindex="0" role="button" aria-haspopup="dialog">{cell.symbol} {cell.word}{flag}</td>'
    )


def grid_body(rows: Sequence[tuple[str, Sequence[CellView | GapView]]]) -> Markup:
    """The grid's rows, built here rather than in the template: a 20,000-cell page
    renders in a fraction of the time.  Every value from a file is escaped; ids,
    outcome names, marks and column numbers are the harness's own."""
    lines = []
    for label, cells in rows:
        version = escape(label)
        lines.append(
            f'<tr data-version="{version}"><th scope="row">{version}</th>'
            + "".join(_grid_cell(cell) for cell in cells)
            + "</tr>"
        )
    return Markup("\n".join(lines))


def _outcome_order(outcome: str) -> int:
    order = [outcome.value for outcome in Outcome]
    return order.index(outcome) if outcome in order else len(order)


def script_json(data: object) -> str:
    """JSON that can sit inside a <script> block whatever its strings hold."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Each could end the block or open a comment; str.replace is fast on 30 MB.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def evidence_chunks(
    items: Sequence[EvidenceItem], scripts: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The page's evidence JSON, one cell at a time: `cells` maps a cell's id to
    `[label, [observation, ...]]`, each observation a list in `fields` order, and
    the fields in `shared_fields` are indices into `shared`."""
    shared = _Shared()
    yield '{"cells":{'
    for number, (ident, cell, signatures) in enumerate(items):
        found = [_evidence(o, signatures, shared, scripts or {}) for o in cell.observations]
        body = [_label(cell), found]
        yield ("," if number else "") + script_json(ident) + ":" + script_json(body)
    yield '},"fields":' + script_json(EVIDENCE_FIELDS)
    yield ',"shared_fields":' + script_json(sorted(SHARED_FIELDS))
    yield ',"shared":' + script_json(list(shared.index)) + "}"


def _page(
    report: Report, title: str | None, scripts: Mapping[str, str] | None = None
) -> Iterator[str]:
    summary = report.summary()
    evidence: list[EvidenceItem] = []
    scenarios = [_scenario_view(s, evidence) for s in report.scenarios]
    packages = sorted({s.package for s in report.scenarios if s.package})
    cells = report.cells
    context = {
        "title": title or f"Which {', '.join(packages) or 'server'} releases are safe",
        "summary": summary,
        "legend": [(mark, style_of(mark), meaning) for mark, meaning in LEGEND],
        "regressed": [(v["report"], v["anchor"]) for v in scenarios if v["report"].regressed],
        "overview": overview_context(report),
        "scenarios": scenarios,
        "sources": report.sources,
        "notes": report.notes,
        "complete": report.complete,
        "filter_outcomes": sorted({c.outcome for c in cells}, key=_outcome_order),
        "filter_pythons": sorted({c.first.python for c in cells}, key=version_key),
        "filter_platforms": sorted({c.first.platform for c in cells}),
        "evidence": evidence_chunks(evidence, scripts),
    }
    return _environment().get_template("report.html.j2").generate(context)


def render_html(report: Report, title: str | None = None) -> str:
    """The whole page as one string."""
    return "".join(_page(report, title))


def write_html(path: Path, report: Report) -> None:
    """The page, written as it is rendered (a 20,000-cell page is never held whole),
    and beside it `repro/` with a script per failing cell of a known scenario."""
    known = {s.id: s.scenario for s in report.scenarios if s.scenario is not None}
    observed = [o.cell for c in report.cells for o in c.observations]
    scripts = write_scripts(path.parent / "repro", observed, known) if known else {}
    write_chunks_atomic(path, _page(report, None, scripts))
