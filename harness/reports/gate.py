"""The gate's verdict for people: terminal lines and a Markdown section.

The Markdown goes first into the CI job summary (and the `--markdown` file), so
a pull request's reviewer reads the answer before the full matrix.
"""

from __future__ import annotations

from rich.console import Console

from harness.analyses.gate import (
    Change,
    GateVerdict,
    comparison_key,
    describe_key,
    resolver_explanation,
)
from harness.outcomes import style_of
from harness.reports.markdown import md
from harness.results import CellResult
from harness.textsafety import escape


def _outcome(cell: CellResult | None) -> str:
    if cell is None:
        return "-"
    style = style_of(cell.outcome)
    return f"{style.symbol} {style.word}"


def conflict_groups(verdict: GateVerdict) -> list[tuple[str, str]]:
    """(where, resolver explanation) once per environment, not once per scenario."""
    seen: dict[tuple[str, str, tuple[str, ...]], tuple[str, str]] = {}
    for cell in verdict.conflicts:
        env = (cell.python, cell.platform, cell.extras)
        if env not in seen:
            where = f"py{cell.python} {cell.platform}"
            if cell.extras:
                where += f" [{','.join(cell.extras)}]"
            seen[env] = (where, resolver_explanation(cell))
    return list(seen.values())


def print_verdict(console: Console, verdict: GateVerdict) -> None:
    style = "bold green" if verdict.passed else "bold red"
    console.print(f"[{style}]{escape(verdict.headline())}[/]", highlight=False, soft_wrap=True)
    for where, explanation in conflict_groups(verdict):
        console.print(f"  {escape(where)}: the resolver says:", highlight=False)
        for line in explanation.splitlines():
            console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)
    for cell in (*verdict.network, *verdict.errors):
        key = describe_key(comparison_key(cell))
        console.print(f"  {escape(key)}: {escape(cell.reason)}", highlight=False, soft_wrap=True)
    for failing in verdict.failing:
        key = describe_key(comparison_key(failing.cell))
        console.print(
            f"  [red]✗[/] {escape(key)}: {escape(failing.explanation)}",
            highlight=False,
            soft_wrap=True,
        )
    if verdict.baseline is not None and not verdict.conflicts:
        console.print(f"changes from {verdict.baseline} to {verdict.candidate}:", highlight=False)
        for name, changes in verdict.change_lists():
            if not changes and name.startswith("failing,"):
                continue
            listed = "; ".join(describe_key(change.key) for change in changes) or "none"
            console.print(f"  {name} ({len(changes)}): {escape(listed)}", highlight=False)
    for note in verdict.notes:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)


def _change_of(verdict: GateVerdict, change: Change) -> str:
    for name, changes in verdict.change_lists():
        if change in changes:
            return name
    return ""


def render_gate_markdown(verdict: GateVerdict) -> str:
    """A section for the job summary: the answer, why, and what the upgrade changes."""
    mark = "✅" if verdict.passed else "❌"
    lines = [f"## {mark} {md(verdict.headline())}", ""]
    for where, explanation in conflict_groups(verdict):
        lines += [f"**{md(where)}**: the resolver says:", "", "```text"]
        lines += [line.replace("```", "'''") for line in explanation.splitlines()]
        lines += ["```", ""]
    changes = [change for _, group in verdict.change_lists() for change in group] + [
        Change(comparison_key(f.cell), None, f.cell)
        for f in verdict.failing
        if verdict.baseline is None
    ]
    explanations = {id(f.cell): f.explanation for f in verdict.failing}
    if changes:
        baseline = verdict.baseline or "baseline"
        lines += [
            f"| cell | {md(baseline)} | {md(verdict.candidate)} | change | why |",
            "| --- | --- | --- | --- | --- |",
        ]
        for change in changes:
            lines.append(
                f"| {md(describe_key(change.key))} | {_outcome(change.baseline)} | "
                f"{_outcome(change.candidate)} | {md(_change_of(verdict, change)) or '-'} | "
                f"{md(explanations.get(id(change.candidate), ''))} |"
            )
        lines.append("")
    lines += [f"_note: {md(note)}_" for note in verdict.notes]
    return "\n".join(lines).rstrip() + "\n"
