"""`python -m harness card import|verify`: from a public fix card to a verified one.

`import CARD [--write DIR]` drafts a scenario and its app from a card (printed,
or written to DIR/<id>/), listing every field it had to guess.  `verify
CARD|SCENARIO` imports a card (into --out/<id>/) or takes a drafted scenario,
runs it around the claimed fix on the card's Python, on the host and under
Wine when the signature is Windows', bisects both edges, and writes
--out/<id>.md and --out/<id>.json.  Exit codes: 0 reproduced and the claim
confirmed or refined (or nothing here can verify it: "Unverifiable here"),
1 not reproduced, contradicted or not monotone, 2 infrastructure, 3 usage
(including a card that gives no server command or no app).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version
from rich.console import Console

from harness.atomic import write_text_atomic
from harness.cards.draft import Draft, draft_card, read_sidecar, write_draft
from harness.cards.text import read_card
from harness.cards.verify import default_platforms, verify
from harness.clock import utc_now
from harness.commands.common import add_harness_settings, harness_settings, notifier
from harness.commands.conclusion import Finished, build_results
from harness.engine.executor import ExecutionReport
from harness.engine.pipeline import Harness
from harness.errors import UsageError
from harness.reports.card import card_summary, render_markdown, write_card_json
from harness.reports.repro import cell_name, script_for
from harness.scenario.loader import load_scenario
from harness.targets.registry import parse_platforms
from harness.textsafety import escape

NAME = "card"
HELP = "import a fix card as a scenario, or verify it for real"
EXAMPLES = (
    "python -m harness card import card.txt --write drafts",
    "python -m harness card verify card.txt",
)
DEFAULT_OUT = Path("reports") / "cards"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="card_command", required=True, metavar="VERB")
    imports = verbs.add_parser("import", help="draft a scenario and its app from a fix card")
    imports.add_argument("card", type=Path, metavar="CARD", help="the card (text)")
    imports.add_argument(
        "--write",
        type=Path,
        metavar="DIR",
        help="write DIR/<id>/<id>.toml, the app and card.json (default: print the draft)",
    )
    imports.add_argument("--id", metavar="ID", help="scenario id (default: <repo>-<issue>)")
    check = verbs.add_parser("verify", help="run a card's scenario around the claimed fix")
    check.add_argument(
        "card",
        type=Path,
        metavar="CARD|SCENARIO",
        help="a fix card, or a scenario .toml drafted from one",
    )
    check.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="where the draft, <id>.md, <id>.json and scripts go (default: %(default)s)",
    )
    check.add_argument("--id", metavar="ID", help="scenario id when importing a card")
    check.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="NAME",
        help="where to run (default: the host, plus windows-wine when the signature is Windows')",
    )
    check.add_argument(
        "--python",
        metavar="X.Y",
        help="interpreter (default: the card's, else the nearest available)",
    )
    check.add_argument(
        "--versions",
        metavar="SELECTOR",
        help="releases the bisect may search (default: every installable one)",
    )
    check.add_argument(
        "--bad",
        metavar="VERSION",
        help="start from this release (default: the last before the fix)",
    )
    check.add_argument("--fresh", action="store_true", help="do not reuse the cell cache")
    add_harness_settings(check)


def main(args: argparse.Namespace, console: Console) -> int:
    if args.card_command == "import":
        return _import(args, console)
    return _verify(args, console)


def _print_guesses(draft: Draft, console: Console) -> None:
    for note in draft.facts.get("notes") or []:
        console.print(f"note: {note}", highlight=False, soft_wrap=True, markup=False)
    for guess in draft.guesses:
        console.print(f"guessed: {guess.line()}", highlight=False, soft_wrap=True, markup=False)


def _import(args: argparse.Namespace, console: Console) -> int:
    draft = draft_card(read_card(args.card), args.id, utc_now())
    if args.write is None:
        console.print(f"# {draft.id}.toml", highlight=False, markup=False)
        console.print(draft.toml, highlight=False, markup=False, soft_wrap=True)
        console.print(f"# {draft.module}.py", highlight=False, markup=False)
        console.print(draft.app_source, highlight=False, markup=False, soft_wrap=True)
    else:
        path = write_draft(draft, args.write)
        console.print(f"drafted {escape(str(path))} and {draft.module}.py", highlight=False)
    _print_guesses(draft, console)
    console.print(f"{len(draft.guesses)} field(s) guessed; each is marked in the file")
    return 0


def _scenario_path(args: argparse.Namespace, console: Console) -> tuple[Path, dict[str, Any]]:
    if args.card.suffix == ".toml":
        return args.card, read_sidecar(args.card)
    draft = draft_card(read_card(args.card), args.id, utc_now())
    path = write_draft(draft, args.out)
    console.print(f"imported {escape(str(args.card))} -> {escape(str(path))}", highlight=False)
    _print_guesses(draft, console)
    return path, dict(draft.facts)


def _bad(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        raise UsageError(f"--bad {text!r} is not a version") from None


def _verify(args: argparse.Namespace, console: Console) -> int:
    path, facts = _scenario_path(args, console)
    scenario = load_scenario(path)
    settings = harness_settings(args)
    settings.platforms = parse_platforms(args.platform) or default_platforms(scenario)
    harness = Harness(settings, notifier(console))
    wanted = args.python or facts.get("python") or next(iter(scenario.matrix.pythons), None)
    started_at = utc_now()
    console.print(f"verifying {scenario.id} on {', '.join(settings.platforms)}", highlight=False)
    verification = verify(
        harness,
        scenario,
        wanted,
        harness.notify,
        args.versions,
        _bad(args.bad),
        reuse=not args.fresh,
    )
    out: Path = args.out
    scripts_dir = out / scenario.id / "repro"
    scripts: dict[str, str] = {}
    for run in verification.runs:
        for cell in run.matched[:2]:
            script = script_for(cell, scenario)
            scripts_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(scripts_dir / script.name, script.text)
            scripts[cell_name(cell)] = script.name
    command = ["python", "-m", "harness", *sys.argv[1:]]
    checked = ExecutionReport(verification.cells, complete=True)
    results = build_results(Finished(harness, [scenario], checked, started_at, command),
                            verification.claims)  # fmt: skip
    finished_at = results.finished_at
    summary = card_summary(verification, facts, finished_at, scripts)
    json_path, md_path = out / f"{scenario.id}.json", out / f"{scenario.id}.md"
    write_card_json(json_path, results, summary)
    write_text_atomic(md_path, render_markdown(summary, str(json_path), f"{scenario.id}/repro"))
    console.print(
        f"Reproduced locally: [bold]{verification.reproduced}[/]; "
        f"claim: {escape(verification.verdict)}"
    )
    for claim in verification.searched_claims:
        console.print(
            f"  {escape(claim.signature)}: {escape(claim.verdict)} - {escape(claim.detail)}",
            highlight=False,
            soft_wrap=True,
        )
    for run in verification.runs:
        e = run.edges
        console.print(
            f"  {run.platform} ({run.role}, Python {run.python_full or '-'}): "
            f"first bad {e.get('first_bad') or '-'}, first good {e.get('first_good') or '-'}; "
            f"{escape(run.python_note or run.note)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"cost: {verification.cost}", highlight=False)
    console.print(f"card: {escape(str(md_path))} and {escape(str(json_path))}", highlight=False)
    return verification.exit_code()
