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
from harness.cards import toml_out
from harness.cards.appinfo import AppInfo, analyse
from harness.cards.command import ServerCommand, find_invocation, parse_command
from harness.cards.pycode import module_hint, reconstruct
from harness.cards.signature import DraftSignature, derive_signatures
from harness.cards.text import CardError, CardText, excerpt
from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario

SIDECAR = "card.json"
SIDECAR_FORMAT = 1
READY = r"Uvicorn running on https?://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SHUTDOWN_WORDS = re.compile(r"KeyboardInterrupt|Aborted|CancelledError|shut ?down", re.I)
_INTRODUCING = re.compile(
    r"(?:typo from|introduced (?:by|in)|caused by|regression (?:from|in)|broke(?:n)? (?:by|in))"
    r"\s+(https?://github\.com/[\w.-]+/[\w.-]+/(?:pull|commit)/\w+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Guess:
    field: str
    value: str
    source: str

    def line(self) -> str:
        return f"{self.field} = {excerpt(self.value, 80)}  (guessed from {self.source})"


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


def _introducing_links(card: CardText) -> list[str]:
    return list(
        dict.fromkeys(m.group(1) for t in card.discussion for m in _INTRODUCING.finditer(t))
    )


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
    draft.toml = _toml(card, draft, command, where, info, signatures, fixed, introduced, python)
    draft.facts["guesses"] = [g.__dict__ for g in draft.guesses]
    validate(draft)
    return draft


def _toml(
    card: CardText,
    draft: Draft,
    command: ServerCommand,
    where: str,
    info: AppInfo,
    signatures: list[DraftSignature],
    fixed: Version | None,
    introduced: Version | None,
    python: str | None,
) -> str:
    s = toml_out.string
    g = draft.guesses
    out: list[str] = [
        toml_out.comment(
            f"Drafted by `python -m harness card import` from the fix card {card.source}."
        ),
        "# Lines under a 'guessed:' comment were inferred, not stated by the card: check them.",
        f"id = {s(draft.id)}",
    ]
    title = excerpt(card.what_broke, 120) or f"{card.repo or 'uvicorn'} issue {card.issue}"
    out.append(f"title = {s(title)}")
    description = " ".join(x for x in (card.what_broke, card.why_broke) if x)
    out.append(f"description = {s(excerpt(description, 1500))}")
    out.append('package = "uvicorn"')
    out.append("")
    out.append("[upstream]")
    if card.repo and card.issue:
        out.append(f"issue = {s(f'https://github.com/{card.repo}/issues/{card.issue}')}")
    if card.fix_url:
        out.append(f"fix = {s(card.fix_url)}")
    links = _introducing_links(card)
    if links:
        out.append("# the card quotes this as the change that introduced the bug")
        out.append(f"links = {toml_out.strings(links)}")
    out += ["", "[defaults]"]
    floor = "minors,>=0.12" if fixed is None or fixed >= Version("0.12.1") else "minors"
    out.append(
        "# guessed: the last patch of each minor series (before 0.12, uvicorn needs a "
        "uvloop that today's resolution cannot start)"
    )
    out.append(f"versions = [{s(floor)}]")
    matrix: list[str] = []
    if python is not None:
        guessed = any(guess.field == "matrix.python" for guess in g)
        matrix.append(
            "# guessed: from a path in the card's transcript"
            if guessed
            else f'# from the card: "Shows up under Python {python}"'
        )
        matrix.append(f"python = [{s(python)}]")
    if info.pins:
        g.append(Guess("pins", ", ".join(info.pins), "the app's imports (unpinned)"))
        matrix.append("# guessed: the app's imports are resolved as of each release's date")
        matrix.append('resolution = ["release-date"]')
    if matrix:
        out += ["", "[matrix]", *matrix]
    if info.pins:
        out.insert(
            out.index('package = "uvicorn"') + 1,
            "# guessed: from the app's imports\npins = " + toml_out.strings(info.pins),
        )
    out += ["", "[server]", f"app = {s(command.app)}"]
    out.append(toml_out.comment(f"from the card's {where}: {command.typed}"))
    for note in command.notes:
        g.append(Guess("server.command", note, f"the card's {where}"))
        out.append(toml_out.comment(f"guessed: {note}"))
    out.append(f"command = {toml_out.strings(command.command)}")
    if command.port == 0:
        out.append("port = 0")
    out.append(f"ready = {s(READY)}")
    out += ["", "[limits]", "ready_s = 30", "probe_s = 10", "log_s = 20", ""]
    out += _expectations(info, command, signatures, g)
    out += _signatures(signatures, fixed, introduced, card, g)
    if (
        command.workers > 1
        and signatures
        and all(sig.platforms == ("windows",) for sig in signatures)
    ):
        reason = (
            "Wine shares a listening socket between processes differently from Windows, so a "
            "Windows-only failure of a multi-worker start-up cannot be checked under Wine"
        )
        g.append(
            Guess(
                "platform.windows-wine.unfaithful",
                reason,
                f"--workers {command.workers} with a Windows-only signature",
            )
        )
        out += [
            "",
            f"# guessed: from --workers {command.workers} with a Windows-only signature",
            "[platform.windows-wine]",
            f"unfaithful = {s(reason)}",
        ]
    return "\n".join(out) + "\n"


def _expectations(
    info: AppInfo, command: ServerCommand, signatures: list[DraftSignature], g: list[Guess]
) -> list[str]:
    s = toml_out.string
    out: list[str] = []
    if info.plain_asgi:
        why = "the app is a plain ASGI callable" + (" that sends this body" if info.body else "")
        g.append(Guess("expect.http", f"GET / -> 200 {info.body or ''}".strip(), why))
        out += [
            f"# guessed: {why}",
            "[[expect.http]]",
            'id = "serves"',
            'path = "/"',
            "status = 200",
        ]
        if info.body is not None:
            out.append(f"body = {s(info.body)}")
    else:
        g.append(Guess("expect.http", f"GET {info.path} -> any response", "the app's routes"))
        out += [
            "# guessed: a route the app declares; any complete response counts",
            "[[expect.http]]",
            'id = "serves"',
            f"path = {s(info.path)}",
        ]
    if command.workers > 1:
        n = command.workers
        g.append(Guess("expect.log", f"{n} workers start", f"--workers {n}"))
        out += [
            "",
            f"# guessed: --workers {n} starts {n} worker processes",
            "[[expect.log]]",
            f'description = "{n} distinct worker processes started"',
            "pattern = 'Started server process \\[(\\d+)\\]'",
            f"distinct_min = {n}",
            "",
            "[[expect.log]]",
            f'description = "{n} workers completed start-up"',
            "pattern = 'Application startup complete'",
            f"min_count = {n}",
        ]
    about_stop = any(_SHUTDOWN_WORDS.search(sig.description) for sig in signatures)
    codes = "[0]" if about_stop else "[]"
    if not about_stop:
        g.append(Guess("expect.exit.codes", "any", "the card is about a failure, not the stop"))
    out += [
        "",
        "# guessed: Ctrl-C stops it"
        + ("" if about_stop else "; its exit code is not the card's bug"),
        "[expect.exit]",
        'signal = "SIGINT"',
        "within_s = 15",
        f"codes = {codes}",
    ]
    return out


def _signatures(
    signatures: list[DraftSignature],
    fixed: Version | None,
    introduced: Version | None,
    card: CardText,
    g: list[Guess],
) -> list[str]:
    s = toml_out.string
    out: list[str] = []
    if not signatures:
        g.append(Guess("signature", "the server does not serve", "no error text in the card"))
        signatures = [
            DraftSignature(
                "does-not-serve",
                "",
                ("linux", "macos", "windows"),
                "the server does not serve (the card has no error text)",
                guess="no error text in the card",
            )
        ]
    for signature in signatures:
        out += [""]
        if signature.guess:
            if signature.pattern:
                g.append(Guess(f"signature {signature.id}", signature.pattern, signature.guess))
            out.append(toml_out.comment(f"guessed: {signature.guess}"))
        out += [
            "[[signature]]",
            f"id = {s(signature.id)}",
            f"description = {s(excerpt(signature.description, 300))}",
        ]
        if signature.pattern:
            out.append(f"pattern = {s(signature.pattern)}")
        else:
            out.append('checks = ["serves"]')
        out.append(f"platforms = {toml_out.strings(signature.platforms)}")
        if fixed is not None:
            out.append(f"fixed_in = {s(str(fixed))}")
        if introduced is not None:
            out.append(f"introduced_in = {s(str(introduced))}")
    if fixed is None:
        g.append(Guess("fixed_in", "none", "the card names no first fixed release"))
    return out


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
