"""The verified card: Markdown for people, JSON for tools, both from one verification.

The JSON is a results file (schema 1, loadable by `report` and `repro`) with a
`card` object added: what was reproduced where, the edges, the claim's
verdict, the date and the harness version.  The Markdown repeats the card's
"Proof / Evidence" block with "Reproduced locally" filled in from that.
Everything from the card or a server's output is shortened and escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import __version__
from harness.atomic import write_text_atomic
from harness.cards.text import excerpt
from harness.cards.verify import PlatformRun, Verification
from harness.results import CellResult, RunResults
from harness.scenario.model import Scenario

CARD_FORMAT = 1


def _md(text: str, limit: int = 200) -> str:
    """Untrusted text for a Markdown table or line: one line, no markup."""
    return re.sub(r"([\\`*_|<>\[\]#])", r"\\\1", excerpt(text, limit))


def matched_line(cell: CellResult, scenario: Scenario) -> str | None:
    """The output line where the cell's signature matched (its last line)."""
    signature = scenario.signature(cell.signature or "")
    if signature is None or signature.pattern is None:
        return None
    found = signature.pattern.search(cell.output_tail)
    if found is None:
        return None
    end = max(found.start(), found.end() - 1)
    start = cell.output_tail.rfind("\n", 0, end) + 1
    return excerpt(cell.output_tail[start:].split("\n", 1)[0], 240)


def _run_json(run: PlatformRun, scenario: Scenario, scripts: Mapping[str, str]) -> dict[str, Any]:
    from harness.reports.repro import cell_name

    matched = [
        {
            "version": c.version,
            "signature": c.signature,
            "line": matched_line(c, scenario),
            "cell": cell_name(c),
            "repro": scripts.get(cell_name(c)),
        }
        for c in run.matched
    ]
    return {
        "platform": run.platform,
        "role": run.role,
        "python_wanted": run.python_wanted,
        "python": run.python,
        "python_full": run.python_full,
        "python_note": run.python_note,
        "signatures": run.signatures,
        "note": run.note,
        "start": run.start,
        "start_mark": run.start_mark,
        "edges": run.edges,
        "untestable": run.untestable,
        "not_monotone": run.not_monotone,
        "reproduced": run.reproduced,
        "matched": matched,
        "outcomes": {c.version: c.outcome for c in run.cells},
    }


def card_summary(
    verification: Verification,
    facts: Mapping[str, Any],
    verified_at: str,
    scripts: Mapping[str, str],
) -> dict[str, Any]:
    scenario = verification.scenario
    searched = [r for r in verification.runs if r.role == "search" and r.edges]
    first_bad = sorted({r.edges.get("first_bad") or "" for r in searched} - {""})
    first_good = sorted({r.edges.get("first_good") or "" for r in searched} - {""})
    return {
        "format": CARD_FORMAT,
        "id": scenario.id,
        "card": facts.get("card"),
        "scenario": str(scenario.source),
        "title": scenario.title,
        "issue": scenario.upstream.issue,
        "fix": scenario.upstream.fix,
        "claims": [c.to_json() for c in verification.searched_claims],
        "reproduced": verification.reproduced,
        "verdict": verification.verdict,
        "first_bad": first_bad,
        "first_good": first_good,
        "platforms": [_run_json(r, scenario, scripts) for r in verification.runs],
        "verified_at": verified_at,
        "harness_version": __version__,
        "cost": verification.cost,
        "guesses": list(facts.get("guesses") or []),
    }


def write_card_json(path: Path, results: RunResults, summary: Mapping[str, Any]) -> None:
    data = results.to_json()
    data["card"] = dict(summary)
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def _where(run: Mapping[str, Any]) -> str:
    python = run.get("python_full") or run.get("python") or "?"
    under = " under Wine" if run["platform"] == "windows-wine" else ""
    return f"{run['platform']} (CPython {python}{under})"


def _edge_line(runs: Sequence[Mapping[str, Any]], new: str, old: str, label: str) -> str:
    parts = []
    for run in runs:
        edges = run.get("edges") or {}
        if not edges:
            continue
        value = edges.get(new) or "not found in the range"
        parts.append(
            f"{value} on {run['platform']} ({old.replace('_', ' ')} {edges.get(old) or 'none'})"
        )
    return f"- {label}: " + ("; ".join(parts) if parts else "not searched here")


def render_markdown(summary: Mapping[str, Any], results_name: str, scripts_dir: str) -> str:
    """The verified card as Markdown (every value from a card or a server escaped)."""
    runs: list[Mapping[str, Any]] = list(summary["platforms"])
    reproduced = [r for r in runs if r["reproduced"]]
    lines = [f"# Verified fix card: {_md(summary['title'], 160)}", ""]
    if summary.get("card"):
        lines.append(
            f"Card `{_md(summary['card'], 80)}`, scenario `{summary['id']}` "
            f"(`{_md(summary['scenario'], 160)}`)."
        )
        lines.append("")
    lines += ["## Proof / Evidence", ""]
    if summary.get("issue"):
        lines.append(f"- GitHub issue: {_md(summary['issue'])}")
    if summary.get("fix"):
        lines.append(f"- Fix PR: {_md(summary['fix'])}")
    for claim in summary["claims"]:
        lines.append(
            f"- Claim ({_md(claim['signature'])}, {', '.join(claim['platforms'])}): "
            f"{_md(claim['claim'])}"
        )
    where = "; ".join(_where(r) for r in reproduced)
    lines.append(
        f"- Reproduced locally: **{summary['reproduced']}**" + (f", on {where}" if where else "")
    )
    for run in reproduced:
        first = run["matched"][0]
        versions = ", ".join(m["version"] for m in run["matched"])
        lines.append(
            f"  - {run['platform']}: uvicorn {versions} matched `{first['signature']}`: "
            f"`{_md(first['line'] or '', 200)}`"
        )
    for run in runs:
        if not run["reproduced"]:
            why = run["note"] or "the signature did not appear"
            lines.append(f"  - {run['platform']}: not reproduced ({run['role']}): {_md(why, 240)}")
    lines.append(_edge_line(runs, "first_bad", "last_good", "First bad release"))
    lines.append(_edge_line(runs, "first_good", "last_bad", "First good release"))
    for claim in summary["claims"]:
        lines.append(
            f"- Claim's verdict ({_md(claim['signature'])}): **{claim['verdict']}**: "
            f"{_md(claim['detail'], 400)}"
        )
    lines.append(
        f"- Last verified: {summary['verified_at']} with uvicorn-regress-harness "
        f"{summary['harness_version']}"
    )
    lines += [
        "",
        "## Where it ran",
        "",
        "| platform | Python | role | start | last good | first bad | last bad | first good |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        e = run.get("edges") or {}
        lines.append(
            f"| {run['platform']} | {run.get('python_full') or '-'} | {run['role']} | "
            f"{run.get('start') or '-'} | {e.get('last_good') or '-'} | "
            f"{e.get('first_bad') or '-'} | {e.get('last_bad') or '-'} | "
            f"{e.get('first_good') or '-'} |"
        )
    lines.append("")
    for run in runs:
        if run.get("python_note"):
            lines.append(f"- {run['platform']}: {_md(run['python_note'], 240)}")
        if run.get("note") and run["role"] != "search":
            lines.append(f"- {run['platform']} ({run['role']}): {_md(run['note'], 400)}")
        if run.get("not_monotone"):
            lines.append(f"- {run['platform']}: NOT MONOTONE at {', '.join(run['not_monotone'])}")
    lines += ["", "## Reproduce it without the harness", ""]
    scripts = [m for r in runs for m in r["matched"] if m.get("repro")]
    for m in scripts:
        lines.append(f"- [{m['cell']}]({scripts_dir}/{m['repro']}): run it in an empty folder")
    lines.append(
        f"- Any cell: `python -m harness repro {results_name} CELL` "
        "(CELL as in `SCENARIO:VERSION:PYTHON:PLATFORM`)"
    )
    lines += ["", "## Releases run", "", "| platform | outcomes |", "| --- | --- |"]
    for run in runs:
        outcomes = ", ".join(f"{v} {o}" for v, o in run["outcomes"].items()) or "none"
        lines.append(f"| {run['platform']} | {outcomes} |")
    guesses = summary.get("guesses") or []
    if guesses:
        lines += ["", "## What the importer guessed", ""]
        for guess in guesses:
            if isinstance(guess, Mapping):
                lines.append(
                    f"- {_md(str(guess.get('field')), 60)}: "
                    f"{_md(str(guess.get('value')), 120)} (from "
                    f"{_md(str(guess.get('source')), 160)})"
                )
    lines += ["", f"Cost: {summary['cost']}.", ""]
    return "\n".join(lines)
