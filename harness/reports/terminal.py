"""The terminal matrix: per scenario, rows Python x platform, columns versions.

Every outcome has a symbol and a word as well as a colour, so the table reads
in monochrome logs too.  Wide matrices are split into several tables of
versions that fit the console instead of being truncated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.version import Version
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.judge.claims import CONTRADICTED, ClaimVerdict
from harness.judge.classify import UNFAITHFUL_OBSERVED
from harness.outcomes import Outcome, style_of
from harness.results import CellResult, summarise
from harness.textsafety import escape

_COLUMN_WIDTH = 14
_ROW_LABEL_WIDTH = 16


def cell_text(cell: CellResult) -> Text:
    style = style_of(cell.outcome)
    text = Text(f"{style.symbol} {style.word}", style=style.colour)
    if not cell.expected:
        text.append(" !", style="bold red")
    shown = cell.outcome not in (Outcome.SKIP, Outcome.UNFAITHFUL)
    detail = cell.signature or (cell.fingerprint if shown else None)
    if detail and cell.also_matched:
        detail += " +" + ",".join(cell.also_matched)
    if detail:
        text.append("\n" + (detail if len(detail) <= 40 else detail[:39] + "…"), style="dim")
    if cell.origin != "selected" or cell.from_cell_cache:
        tag = cell.origin if cell.origin != "selected" else ""
        tag += " (cached)" if cell.from_cell_cache else ""
        text.append(f"\n+{tag.strip()}", style="dim italic")
    text.overflow = "fold"
    return text


def _row_key(cell: CellResult) -> tuple[Version, str, str]:
    try:
        python = Version(cell.python)
    except ValueError:
        python = Version("0")
    return python, cell.platform, cell.variant


def _row_label(key: tuple[Version, str, str], python: str) -> str:
    label = f"py{python} {key[1]}"
    if key[2]:
        label += f" {key[2]}"
    return label


def scenario_tables(scenario_id: str, cells: Sequence[CellResult], width: int) -> list[Table]:
    versions = sorted({c.parsed_version for c in cells})
    keys = [_row_key(c) for c in cells]  # once per cell: parsing versions is not free
    pythons: dict[tuple[Version, str, str], str] = {}
    for key, result in zip(keys, cells, strict=True):
        pythons.setdefault(key, result.python)
    rows = sorted(pythons)
    labels = {row: _row_label(row, pythons[row]) for row in rows}
    by_key = {(key, c.parsed_version): c for key, c in zip(keys, cells, strict=True)}
    per_table = max(1, (width - _ROW_LABEL_WIDTH - 4) // (_COLUMN_WIDTH + 3))
    tables = []
    pages = (len(versions) + per_table - 1) // per_table
    for start in range(0, len(versions), per_table):
        chunk = versions[start : start + per_table]
        title = scenario_id
        if pages > 1:
            page = start // per_table + 1
            span = f"version {chunk[0]}" if len(chunk) == 1 else f"versions {chunk[0]}-{chunk[-1]}"
            title += f" ({'continued, ' if page > 1 else ''}{span}, {page} of {pages})"
        table = Table(title=title, title_justify="left", show_lines=True, min_width=len(title))
        table.add_column("python", no_wrap=True, min_width=8)
        for version in chunk:
            table.add_column(str(version), min_width=9, max_width=_COLUMN_WIDTH)
        for row in rows:
            rendered: list[RenderableType] = [Text(labels[row])]
            for version in chunk:
                cell = by_key.get((row, version))
                rendered.append(cell_text(cell) if cell else Text("·", style="dim"))
            table.add_row(*rendered)
        tables.append(table)
    return tables


def unfaithful_notes(cells: Sequence[CellResult]) -> list[Text]:
    """One line per platform whose cells are unfaithful, with the scenario's reason."""
    reasons = {c.platform: c.reason for c in cells if c.outcome == Outcome.UNFAITHFUL}
    return [
        Text(f"  {platform}: {reason.split(UNFAITHFUL_OBSERVED)[0]}", style="cyan")
        for platform, reason in sorted(reasons.items())
    ]


def render_matrix(
    console: Console,
    cells: Sequence[CellResult],
    claims: Iterable[ClaimVerdict] = (),
    complete: bool = True,
) -> None:
    claims = list(claims)
    scenario_ids = sorted({c.scenario for c in cells})
    for scenario_id in scenario_ids:
        own = [c for c in cells if c.scenario == scenario_id]
        parts: list[RenderableType] = list(scenario_tables(scenario_id, own, console.width))
        for verdict in claims:
            if verdict.scenario != scenario_id:
                continue
            style = "bold red" if verdict.verdict == CONTRADICTED else "cyan"
            platforms = escape(", ".join(verdict.platforms))
            parts.append(
                Text.from_markup(
                    f"  claim [bold]{escape(verdict.signature)}[/] ({escape(verdict.claim)}, "
                    f"{platforms}): [{style}]{escape(verdict.verdict)}[/]"
                    f" - {escape(verdict.detail)}"
                    + (f"\n    observed: {escape(verdict.observed())}" if verdict.ranges else "")
                )
            )
        parts.extend(unfaithful_notes(own))
        console.print(Group(*parts))
    summary = summarise(cells)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary["outcomes"].items()))
    status = "" if complete else " [bold red](INCOMPLETE: interrupted)[/]"
    # Cells added to pin claim edges inform the verdicts but do not gate the run.
    gated = summary["unexpected"]
    ungated = summary.get("unexpected_not_gated", 0)
    extra = f" (+{ungated} in cells added for claims, not gated)" if ungated else ""
    console.print(
        f"[bold]{summary['cells']} cell(s)[/]: {escape(counts)}; "
        f"[{'bold red' if gated else 'green'}]{gated} unexpected[/]{extra}"
        f"{status}"
    )
    for cell in cells:
        if not cell.expected:
            label = "unexpected" if cell.gates else f"not gated ({cell.origin})"
            console.print(
                f"  [bold red]{label}[/] {escape(cell.scenario)} {escape(cell.version)} "
                f"py{escape(cell.python)} {escape(cell.platform)}"
                f"{' ' + escape(cell.variant) if cell.variant else ''}: {escape(cell.outcome)} - "
                f"{escape(cell.reason[:200])}",
                highlight=False,
            )
