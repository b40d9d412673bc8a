"""What a bisect found, said plainly: every range, the evidence behind its edges,
what could still hide between probes, the install-failure bands, and the cost
against its bound.

Kept apart from the search (pure) and the command (arguments, orchestration)
so the wording of every case (exact edge, untestable holes, bad at an end of
the range, several ranges, untried stretches) is in one place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console

from harness import patterns
from harness.analyses.bisect import BAND_FAILURES, BisectResult, Edge, budget
from harness.analyses.bisect_bands import Band
from harness.analyses.bisect_setup import BisectProblem, BisectSetup, find_problem
from harness.engine.cellsource import Cost
from harness.judge.claims import CONTRADICTED, ClaimVerdict
from harness.outcomes import Outcome
from harness.patterns import PatternTimeout
from harness.results import CellResult
from harness.scenario.model import Signature
from harness.textsafety import escape

#: Untried stretches listed by name (the rest are counted).
_GAPS_SHOWN = 4


def _between(plan: BisectSetup, edge: Edge) -> str:
    """What lies between the two sides of an edge that was not tested."""
    parts = []
    if edge.skipped:
        names = ", ".join(plan.version(i) for i in edge.skipped)
        parts.append(f"untestable (install errors): {names}")
    if edge.untried():
        parts.append(
            f"{edge.untried()} release(s) not tried (inside or next to an install-failure band)"
        )
    return "; ".join(parts)


def _introduced(plan: BisectSetup, edge: Edge) -> str:
    first = plan.version(edge.after)
    if edge.before is None and not edge.skipped:
        return f"bad already at the start of the range ({first}): introduced there or earlier"
    if edge.before is None:
        return (
            f"first bad {first}; every release tried below it was untestable "
            f"({', '.join(plan.version(i) for i in edge.skipped)})"
        )
    between = _between(plan, edge)
    text = f"last good {plan.version(edge.before)} -> first bad {first}"
    return text + (f"; {between}, so the edge is at one of them or at {first}" if between else "")


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
    between = _between(plan, edge)
    text = f"last bad {last} -> first good {first}"
    return text + (f"; {between}, so the edge is at one of them or at {first}" if between else "")


def _matched_line(cell: CellResult, signatures: Sequence[Signature]) -> str | None:
    for signature in signatures:
        if signature.id not in cell.signatures:
            continue
        if signature.pattern is not None:
            match = None
            with contextlib.suppress(PatternTimeout):  # the cell shows it: no line to quote
                match = patterns.search(signature.pattern, cell.output_tail)
            if match:
                return match.group(0).strip().splitlines()[-1]
        failed = [str(c.get("name")) for c in cell.checks if not c.get("ok")]
        wanted = dict.fromkeys((*signature.checks, *signature.check_detail, *signature.timed_out))
        named = [name for name in wanted if name in failed]
        if named:  # a signature on client-side evidence: the checks that failed
            details = {str(c.get("name")): str(c.get("detail")) for c in cell.checks}
            return "; ".join(f"{name}: {details.get(name, '')}"[:160] for name in named)
        if signature.exit_codes or signature.exit_signal:
            return f"exit code {cell.exit_code}"
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
    elif cell.outcome == Outcome.SKIP:
        lines.append(cell.reason)
    if cell.also_matched:
        lines.append(f"also matched: {', '.join(cell.also_matched)}")
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


def _edge_cells(result: BisectResult) -> list[tuple[str, int]]:
    wanted: list[tuple[str, int | None]] = []
    for found in result.ranges:
        wanted += [("last good", found.introduced.before), ("first bad", found.introduced.after)]
        wanted += [("last bad", found.fixed.before), ("first good", found.fixed.after)]
    chosen: dict[int, list[str]] = {}
    for label, index in wanted:
        if index is not None:
            chosen.setdefault(index, []).append(label)
    return [(" = ".join(labels), index) for index, labels in sorted(chosen.items())]


def _band_line(plan: BisectSetup, band: Band, cells: Mapping[int, CellResult]) -> str:
    cause = cells[band.first].reason.splitlines()[0][:120] if band.first in cells else ""
    text = f"{plan.span(band.first, band.last)}: {band.failures} failed install(s)"
    if band.presumed:
        text += f", {band.presumed} release(s) inside presumed the same and not built"
    low, high = band.untried_sides(len(plan.releases))
    sides = []
    if low and band.below is not None:
        sides.append(f"{low} below it")
    elif low:
        sides.append(f"{low} older ones (presumed the same)")
    if high and band.above is not None:
        sides.append(f"{high} above it")
    elif high:
        sides.append(f"{high} newer ones (presumed the same)")
    if sides:
        text += "; not tried: " + ", ".join(sides)
    return text + (f" (cause: {cause})" if cause else "")


def _gaps(console: Console, plan: BisectSetup, result: BisectResult) -> None:
    gaps = sorted((g for g in result.gaps if g.width > 0), key=lambda g: -g.width)
    if not gaps:
        console.print("every release between two probes with the same mark was probed")
        return
    shown = ", ".join(
        f"{plan.span(g.before + 1, g.after - 1)} ({g.width} untried between two {g.mark.value})"
        for g in gaps[:_GAPS_SHOWN]
    )
    more = f" and {len(gaps) - _GAPS_SHOWN} more" if len(gaps) > _GAPS_SHOWN else ""
    console.print(
        f"[yellow]could hide a short interval[/] (not probed, between two probes with the same "
        f"mark; widest {gaps[0].width} release(s)): {escape(shown)}{more}",
        highlight=False,
    )


def cost_bound(result: BisectResult, n: int) -> float:
    """2·log2(n)+4 builds per edge found, plus the coarse probes."""
    return result.edges_found * budget(n) + len(result.coarse)


def render(
    console: Console,
    plan: BisectSetup,
    result: BisectResult,
    cells: Mapping[int, CellResult],
    claims: Sequence[ClaimVerdict],
    cost: Cost,
) -> BisectProblem | None:
    """Print the outcome; return what is wrong with it, if anything."""
    problem = find_problem(plan, result, cells)
    console.print()
    coarse = ", ".join(f"{plan.version(i)} {result.marks[i].value}" for i in sorted(result.coarse))
    console.print(f"coarse probes: {escape(coarse)}", highlight=False, soft_wrap=True)
    if not result.ranges:
        console.print("[bold]the failure was not seen in any probe[/]")
    for number, found in enumerate(result.ranges, 1):
        label = f"range {number} of {len(result.ranges)}" if len(result.ranges) > 1 else "range"
        console.print(f"[bold]{label}:[/]")
        console.print(f"  [bold]introduced:[/] {escape(_introduced(plan, found.introduced))}")
        console.print(f"  [bold]fixed:[/]      {escape(_fixed(plan, found.fixed))}")
    for label, index in _edge_cells(result):
        cell = cells.get(index)
        if cell is None:
            continue
        console.print(f"  [bold]{label}[/] {cell.version}:", highlight=False)
        for line in evidence(cell, plan.signatures):
            console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)
        if "last good" in label and cell.outcome not in (Outcome.PASS, Outcome.SKIP):
            console.print(
                f"  [yellow]note:[/] {cell.version} did not show the failure but did not pass "
                f"either ({escape(cell.outcome)}): a different failure may hide it there",
                highlight=False,
            )
    _gaps(console, plan, result)
    for band in result.bands:
        console.print(
            f"install-failure band {escape(_band_line(plan, band, cells))}",
            highlight=False,
            soft_wrap=True,
        )
    for claim in claims:
        style = "bold red" if claim.verdict == CONTRADICTED else "cyan"
        console.print(
            f"claim [bold]{escape(claim.signature)}[/] ({escape(claim.claim)}): "
            f"[{style}]{escape(claim.verdict)}[/] - {escape(claim.detail)}"
        )
    if problem is not None:
        console.print(f"[bold red]{escape(problem.message)}[/]")
    n = len(plan.releases)
    worst = max((band.failures for band in result.bands), default=0)
    console.print(
        f"cost: {result.probes} probe(s) ({len(result.coarse)} coarse) in "
        f"{len(result.rounds)} round(s): {cost.describe()}; bound for "
        f"{result.edges_found} edge(s) over {n} release(s): {result.edges_found} x "
        f"(2*log2(n)+4 = {budget(n):.1f}) + {len(result.coarse)} coarse = "
        f"{cost_bound(result, n):.1f} builds; failed installs per band: at most {worst} "
        f"(limit {BAND_FAILURES})",
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
        "untried": edge.untried(),
        "exact": edge.exact,
    }


def summary_json(
    plan: BisectSetup,
    result: BisectResult,
    cost: Cost,
    problem: BisectProblem | None,
) -> dict[str, Any]:
    interpreter = plan.python.interpreter
    around = result.around_start()
    n = len(plan.releases)
    return {
        "scenario": plan.scenario.id,
        "platform": plan.platform,
        "python": str(interpreter.version) if interpreter else plan.python.text,
        "failure": plan.failure(),
        "releases": n,
        "range": [plan.version(0), plan.version(n - 1)],
        "excluded": [str(r.version) for r in plan.excluded],
        "start": plan.version(plan.start),
        "start_reason": plan.start_reason,
        "start_mark": result.start_mark.value if result.start_mark else None,
        "introduced": _edge_json(
            plan, around.introduced if around else None, "last_good", "first_bad"
        ),
        "fixed": _edge_json(plan, around.fixed if around else None, "last_bad", "first_good"),
        "ranges": [
            {
                "introduced": _edge_json(plan, found.introduced, "last_good", "first_bad"),
                "fixed": _edge_json(plan, found.fixed, "last_bad", "first_good"),
            }
            for found in result.ranges
        ],
        "gaps": [
            {
                "after": plan.version(g.before),
                "before": plan.version(g.after),
                "untried": g.width,
                "mark": g.mark.value,
            }
            for g in result.gaps
            if g.width > 0
        ],
        "bands": [
            {
                "first": plan.version(b.first),
                "last": plan.version(b.last),
                "failed_installs": b.failures,
                "presumed": b.presumed,
            }
            for b in result.bands
        ],
        "coarse": [plan.version(i) for i in result.coarse],
        "rounds": [[plan.version(i) for i in batch] for batch in result.rounds],
        "marks": {plan.version(i): mark.value for i, mark in sorted(result.marks.items())},
        "probes": result.probes,
        "edges_found": result.edges_found,
        "cost": cost.to_json(),
        "bound": round(cost_bound(result, n), 1),
        "problem": problem.message if problem else None,
    }
