"""What a bisect found, said plainly: the edges, the evidence behind them, the cost.

Kept apart from the search (pure) and the command (arguments, orchestration)
so the wording of every case (exact edge, untestable holes, bad at an end of
the range, not monotone) is in one place.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console

from harness import patterns
from harness.analyses.bisect import BisectResult, Edge, Mark
from harness.analyses.bisect_setup import BisectProblem, BisectSetup, find_problem
from harness.engine.cellsource import Cost
from harness.judge.claims import CONTRADICTED, ClaimVerdict
from harness.outcomes import Outcome
from harness.patterns import PatternTimeout
from harness.results import CellResult
from harness.scenario.model import Signature
from harness.textsafety import escape


def _holes(plan: BisectSetup, edge: Edge) -> str:
    if not edge.skipped:
        return ""
    names = ", ".join(plan.version(i) for i in edge.skipped)
    return f"; untestable (install errors) in between: {names}, so the edge is at one of them or"


def _introduced(plan: BisectSetup, edge: Edge) -> str:
    first = plan.version(edge.after)
    if edge.before is None and not edge.skipped:
        return f"bad already at the start of the range ({first}): introduced there or earlier"
    if edge.before is None:
        return (
            f"first bad {first}; every release tried below it was untestable "
            f"({', '.join(plan.version(i) for i in edge.skipped)})"
        )
    holes = _holes(plan, edge)
    return f"last good {plan.version(edge.before)} -> first bad {first}" + (
        f"{holes} at {first}" if holes else ""
    )


def _fixed(plan: BisectSetup, edge: Edge) -> str:
    last = plan.version(edge.before)
    if edge.after is None and not edge.skipped:
        return f"still bad at the end of the range ({last}): not fixed in it"
    if edge.after is None:
        return (
            f"last bad {last}; every release tried above it was untestable "
            f"({', '.join(plan.version(i) for i in edge.skipped)})"
        )
    first = plan.version(edge.after)
    holes = _holes(plan, edge)
    return f"last bad {last} -> first good {first}" + (f"{holes} at {first}" if holes else "")


def _matched_line(cell: CellResult, signatures: Sequence[Signature]) -> str | None:
    for signature in signatures:
        if signature.id != cell.signature:
            continue
        if signature.pattern is not None:
            match = None
            with contextlib.suppress(PatternTimeout):  # the cell shows it: no line to quote
                match = patterns.search(signature.pattern, cell.output_tail)
            if match:
                return match.group(0).strip().splitlines()[-1]
        failed = [str(c.get("name")) for c in cell.checks if not c.get("ok")]
        named = [name for name in signature.checks if name in failed]
        if named:  # a signature on client-side evidence: the checks that failed
            details = {str(c.get("name")): str(c.get("detail")) for c in cell.checks}
            return "; ".join(f"{name}: {details.get(name, '')}"[:160] for name in named)
    return None


def evidence(cell: CellResult, signatures: Sequence[Signature]) -> list[str]:
    """A few lines that let a reader check the cell's verdict without rerunning it."""
    seen = (
        "from the cell cache, observed " + cell.from_cell_cache
        if cell.from_cell_cache
        else ("ran now")
    )
    lines = [f"{cell.outcome}, exit code {cell.exit_code}, {cell.duration_s:.1f}s ({seen})"]
    matched = _matched_line(cell, signatures)
    if matched:
        lines.append(f"matched {cell.signature}: {matched}")
    elif cell.fingerprint:
        lines.append(f"failure: {cell.fingerprint}")
    checks = [
        f"{'ok' if check.get('ok') else 'FAILED'} {check.get('name')}: {check.get('detail')}"
        for check in cell.checks
        if cell.outcome == Outcome.PASS or not check.get("ok")
    ]
    lines += checks[:4]
    keys = [name for name in cell.resolved if name != "pip"][:6]
    if keys:
        lines.append("installed: " + ", ".join(f"{k} {cell.resolved[k]}" for k in keys))
    return lines


def _edge_cells(plan: BisectSetup, result: BisectResult) -> list[tuple[str, int]]:
    wanted: list[tuple[str, int | None]] = []
    if result.introduced is not None:
        wanted += [("last good", result.introduced.before), ("first bad", result.introduced.after)]
    if result.fixed is not None:
        wanted += [("last bad", result.fixed.before), ("first good", result.fixed.after)]
    chosen: dict[int, list[str]] = {}
    for label, index in wanted:
        if index is not None:
            chosen.setdefault(index, []).append(label)
    return [(" = ".join(labels), index) for index, labels in sorted(chosen.items())]


def budget(n: int) -> float:
    return 2 * math.log2(max(n, 2)) + 4


def render(
    console: Console,
    plan: BisectSetup,
    result: BisectResult,
    cells: Mapping[int, CellResult],
    known: Mapping[int, Mark],
    claims: Sequence[ClaimVerdict],
    cost: Cost,
) -> BisectProblem | None:
    """Print the outcome; return what is wrong with it, if anything."""
    problem = find_problem(plan, result, cells)
    console.print()
    if result.introduced is not None and result.fixed is not None:
        console.print(f"[bold]introduced:[/] {escape(_introduced(plan, result.introduced))}")
        console.print(f"[bold]fixed:[/]      {escape(_fixed(plan, result.fixed))}")
        for label, index in _edge_cells(plan, result):
            cell = cells.get(index)
            if cell is None:
                continue
            console.print(f"  [bold]{label}[/] {cell.version}:", highlight=False)
            for line in evidence(cell, plan.signatures):
                console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)
        if result.introduced.before is not None:
            last_good = cells[result.introduced.before]
            if last_good.outcome != Outcome.PASS:
                console.print(
                    f"  [yellow]note:[/] {last_good.version} did not show the failure but did "
                    f"not pass either ({escape(last_good.outcome)}): a different failure may "
                    "hide it there, so the introduction may be earlier",
                    highlight=False,
                )
    for claim in claims:
        style = "bold red" if claim.verdict == CONTRADICTED else "cyan"
        console.print(
            f"claim [bold]{escape(claim.signature)}[/] ({escape(claim.claim)}): "
            f"[{style}]{escape(claim.verdict)}[/] - {escape(claim.detail)}"
        )
    unprobed = len(set(known) - set(result.marks))
    if unprobed:
        console.print(
            f"checked against {unprobed} more cached observation(s) in the range", highlight=False
        )
    if problem is not None:
        console.print(f"[bold red]{escape(problem.message)}[/]")
    n = len(plan.releases)
    console.print(
        f"cost: {result.probes} probe(s) in {len(result.rounds)} round(s): {cost.describe()}; "
        f"for {n} release(s), 2*log2(n)+4 = {budget(n):.1f}",
        highlight=False,
    )
    return problem


def _edge_json(plan: BisectSetup, edge: Edge | None, old: str, new: str) -> dict[str, Any] | None:
    if edge is None:
        return None
    return {
        old: None if edge.before is None else plan.version(edge.before),
        new: None if edge.after is None else plan.version(edge.after),
        "untestable": [plan.version(i) for i in edge.skipped],
        "exact": edge.exact,
    }


def summary_json(
    plan: BisectSetup,
    result: BisectResult,
    cells: Mapping[int, CellResult],
    cost: Cost,
    problem: BisectProblem | None,
) -> dict[str, Any]:
    interpreter = plan.python.interpreter
    return {
        "scenario": plan.scenario.id,
        "platform": plan.platform,
        "python": str(interpreter.version) if interpreter else plan.python.text,
        "failure": plan.failure(),
        "releases": len(plan.releases),
        "range": [plan.version(0), plan.version(len(plan.releases) - 1)],
        "excluded": [str(r.version) for r in plan.excluded],
        "start": plan.version(plan.start),
        "start_reason": plan.start_reason,
        "start_mark": result.start_mark.value if result.start_mark else None,
        "introduced": _edge_json(plan, result.introduced, "last_good", "first_bad"),
        "fixed": _edge_json(plan, result.fixed, "last_bad", "first_good"),
        "not_monotone": [plan.version(i) for i in result.inconsistent],
        "rounds": [[plan.version(i) for i in batch] for batch in result.rounds],
        "marks": {plan.version(i): mark.value for i, mark in sorted(result.marks.items())},
        "probes": result.probes,
        "cost": cost.to_json(),
        "problem": problem.message if problem else None,
    }
