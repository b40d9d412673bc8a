"""The drafted scenario file, written from what was read off a card.

Every string goes through `toml_out`; every inference is recorded as a
`Guess` and written under a `# guessed: ... (from ...)` comment so a
reviewer sees what to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import Version

from harness.cards import toml_out
from harness.cards.appinfo import AppInfo
from harness.cards.command import ServerCommand
from harness.cards.signature import DraftSignature
from harness.cards.text import CardText, excerpt

READY = r"Uvicorn running on https?://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)"
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


def _introducing_links(card: CardText) -> list[str]:
    return list(
        dict.fromkeys(m.group(1) for t in card.discussion for m in _INTRODUCING.finditer(t))
    )


def render_scenario(
    card: CardText,
    draft_id: str,
    g: list[Guess],
    command: ServerCommand,
    where: str,
    info: AppInfo,
    signatures: list[DraftSignature],
    fixed: Version | None,
    introduced: Version | None,
    python: str | None,
) -> str:
    """The scenario file: what the card states as is, every guess under a comment."""
    s = toml_out.string
    out: list[str] = [
        toml_out.comment(
            f"Drafted by `python -m harness card import` from the fix card {card.source}."
        ),
        "# Lines under a 'guessed:' comment were inferred, not stated by the card: check them.",
        f"id = {s(draft_id)}",
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
