"""Draft a scenario (TOML) and its app from a fix card.

What the card states is written as is; what had to be inferred (the command's
placeholders, a signature translated to another platform, the HTTP check, the
pins) is written with a `# guessed: ... (from ...)` comment above it and
listed in `Draft.guesses`, so a reviewer sees what to check.  The draft is
loaded with the harness's own strict loader before it is handed out: a draft
that comes out of here runs without hand edits.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.atomic import write_text_atomic
from harness.cards.appinfo import analyse
from harness.cards.command import ServerCommand, find_invocation, parse_command
from harness.cards.pycode import module_hint, reconstruct
from harness.cards.scenario_text import Guess, render_scenario
from harness.cards.signature import derive_signatures
from harness.cards.text import CardError, CardText, excerpt
from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario

SIDECAR = "card.json"
SIDECAR_FORMAT = 1
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass
class Draft:
    id: str
    module: str
    app_source: str
    toml: str = ""
    guesses: list[Guess] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def card_id(card: CardText, given: str | None) -> str:
    if given is not None:
        if not _ID_RE.match(given):
            raise CardError(f"--id {given!r}: lower-case letters, digits and dashes only")
        return given
    if card.repo and card.issue:
        name = card.repo.rsplit("/", 1)[-1].lower()
        return re.sub(r"[^a-z0-9-]+", "-", f"{name}-{card.issue}").strip("-")[:63]
    stem = re.sub(r"[^a-z0-9]+", "-", Path(card.source).stem.lower()).strip("-")
    return ("card-" + stem)[:63].strip("-") or "card"


def _command(card: CardText) -> tuple[ServerCommand, str]:
    sources = [
        ("Re-run line", card.reruns),
        ("Trigger line", card.triggers),
        ('"Surfaces as" line', card.surfaces),
        ("Failure Signature", card.signatures),
        ("error transcript", card.errors),
    ]
    for where, texts in sources:
        for text in texts:
            typed = find_invocation(text)
            if typed is not None:
                return parse_command(typed), where
    typed = find_invocation(card.text)
    if typed is not None:
        return parse_command(typed), "card text"
    raise CardError(
        f"{card.source}: no server command found (looked for a `uvicorn MODULE:APP ...` "
        "command in the Re-run, Trigger and Surfaces-as lines, the Failure Signature and the "
        "error transcripts): the card cannot be run"
    )


def _claim(card: CardText, draft: Draft) -> tuple[Version | None, Version | None]:
    fixed: Version | None = None
    for text in card.fixed_in:
        try:
            fixed = Version(text)
            break
        except InvalidVersion:
            continue
    others = {v for v in card.fixed_in if v != str(fixed)}
    if fixed is not None and others:
        draft.guesses.append(
            Guess(
                "fixed_in",
                str(fixed),
                f"'First fixed release' (card also says {excerpt(', '.join(sorted(others)), 40)})",
            )
        )
    introduced: Version | None = None
    for text in card.introduced_in:
        try:
            candidate = Version(text)
        except InvalidVersion:
            continue
        if fixed is None or candidate < fixed:
            introduced = candidate
            break
    return fixed, introduced


def _app(card: CardText, command: ServerCommand, draft: Draft) -> tuple[str, str]:
    module, _, attribute = command.app.partition(":")
    if "." in module:
        raise CardError(f"the card serves {command.app}: packages (dotted modules) are not drafted")
    if not card.repro:
        raise CardError(f"{card.source}: no repro.py block: the card gives no app to serve")
    flat = card.repro[0]
    source = reconstruct(flat, attribute.split(".", 1)[0])
    if source.strip() != flat.strip():
        draft.guesses.append(
            Guess(
                "app",
                f"{module}.py re-indented",
                "repro.py, flattened onto one line in the card (newlines lost)",
            )
        )
    hint = module_hint(flat)
    if hint is not None and hint != module:
        draft.guesses.append(Guess("app", f"{module}.py", f"the command; repro.py says {hint}.py"))
    return module, source


def draft_card(card: CardText, given_id: str | None = None, now: str = "") -> Draft:
    """The draft for a card, validated by the scenario loader; CardError if impossible."""
    command, where = _command(card)
    draft = Draft(card_id(card, given_id), "", "")
    draft.module, draft.app_source = _app(card, command, draft)
    info = analyse(draft.app_source, command.app.split(":", 1)[1].split(".", 1)[0])
    signatures, notes = derive_signatures(card)
    fixed, introduced = _claim(card, draft)
    python = card.pythons[0] if card.pythons else None
    if python is None:
        seen = re.search(r"lib/python(3\.\d+)/|\\Python3(\d+)\\", card.text)
        if seen is not None:
            python = seen.group(1) or f"3.{seen.group(2)}"
            draft.guesses.append(Guess("matrix.python", python, "a path in the card's transcript"))
    draft.facts = {
        "format": SIDECAR_FORMAT,
        "card": card.source,
        "id": draft.id,
        "drafted_at": now,
        "python": python,
        "fixed_in": str(fixed) if fixed else None,
        "introduced_in": str(introduced) if introduced else None,
        "command": command.typed,
        "command_from": where,
        "module": draft.module,
        "notes": notes,
    }
    draft.toml = render_scenario(
        card, draft.id, draft.guesses, command, where, info, signatures, fixed, introduced, python
    )
    draft.facts["guesses"] = [g.__dict__ for g in draft.guesses]
    validate(draft)
    return draft


def validate(draft: Draft) -> None:
    """Load the draft with the scenario loader in a scratch folder (a bug if it fails)."""
    with tempfile.TemporaryDirectory(prefix="card-draft-") as scratch:
        folder = Path(scratch)
        write_text_atomic(folder / f"{draft.module}.py", draft.app_source, durable=False)
        path = folder / f"{draft.id}.toml"
        write_text_atomic(path, draft.toml, durable=False)
        try:
            load_scenario(path)
        except ScenarioError as exc:
            problem = f"{exc.field}: {exc.problem}"
            raise CardError(f"the draft is not a valid scenario ({problem})") from None


def write_draft(draft: Draft, out_dir: Path) -> Path:
    """Write `<out>/<id>/<id>.toml`, the app and `card.json`; returns the scenario path."""
    root = out_dir.resolve()
    folder = (root / draft.id).resolve()
    if folder.parent != root:
        raise CardError(f"refusing to write outside {out_dir}")
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / f"{draft.module}.py", draft.app_source)
    scenario = folder / f"{draft.id}.toml"
    write_text_atomic(scenario, draft.toml)
    write_text_atomic(folder / SIDECAR, json.dumps(draft.facts, indent=2) + "\n")
    return scenario


def read_sidecar(scenario_path: Path) -> dict[str, Any]:
    """The card facts written beside a draft (empty when absent or not ours)."""
    path = scenario_path.parent / SIDECAR
    try:
        if path.stat().st_size > 256 * 1024:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        return {}
    return {
        key: data[key] for key in ("card", "python", "guesses", "notes", "command") if key in data
    }
