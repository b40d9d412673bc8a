"""A card's failure signature and platforms, from its error text.

The signature is the exception a broken release prints: its type and the
stable head of its message, or, for OS errors, the error code (Windows says
`[WinError 10057] A request to send ...`, Wine says `[WinError 10057] Windows
Error 0x2749`; only the code is the same).  A "Failure Signature" that is a
prompt line (a command echo) is no signature: the search moves on to the error
transcripts, then to the prose ("Fixes the WinError 10022 issue").

Platforms come from what the card shows: Windows paths and WinError codes,
POSIX paths and errno codes.  A Windows socket error has a POSIX twin (WSA
codes are 10000 plus the BSD errno), so when the card shows the bug on Linux
too but its Linux transcript is cut before the error, the Linux signature is
translated, and marked as a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.cards.command import find_invocation
from harness.cards.text import CardText, excerpt

_EXCEPTION = re.compile(
    r"(?<![\w.])(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Failure))"
    r"(?::[ \t]*(?P<message>[^\n]*))?"
)
#: Where a flattened message runs into the next part of a transcript.
_MESSAGE_END = re.compile(
    r"\s+(?:INFO|ERROR|WARNING|DEBUG):|\s+Traceback \(|\s+File \"|\s+During handling|"
    r"\s+The above exception|\s*\.\.\.\s*\(truncated\)|\u2026|\s+\[\d\d:\d\d:\d\d\]"
)
_PROMPT = re.compile(r"(?:^\(\w+\)\s|^PS [A-Z]:|[A-Za-z]:\\[^>\s]*>\s*\S|\$\s+\S|\u03bb\s+\S)")
_CODE = re.compile(r"\[(?P<kind>WinError|Errno) (?P<code>\d+)\]")
_PROSE_CODE = re.compile(r"\b(?P<kind>WinError|Errno)\s*(?P<code>\d{1,5})\b")

#: WSA socket codes (10000 + BSD errno) -> errno name.
WSA_ERRNO: dict[int, str] = {
    10004: "EINTR",
    10009: "EBADF",
    10013: "EACCES",
    10014: "EFAULT",
    10022: "EINVAL",
    10024: "EMFILE",
    10035: "EWOULDBLOCK",
    10036: "EINPROGRESS",
    10037: "EALREADY",
    10038: "ENOTSOCK",
    10039: "EDESTADDRREQ",
    10040: "EMSGSIZE",
    10041: "EPROTOTYPE",
    10042: "ENOPROTOOPT",
    10043: "EPROTONOSUPPORT",
    10044: "ESOCKTNOSUPPORT",
    10045: "EOPNOTSUPP",
    10047: "EAFNOSUPPORT",
    10048: "EADDRINUSE",
    10049: "EADDRNOTAVAIL",
    10050: "ENETDOWN",
    10051: "ENETUNREACH",
    10052: "ENETRESET",
    10053: "ECONNABORTED",
    10054: "ECONNRESET",
    10055: "ENOBUFS",
    10056: "EISCONN",
    10057: "ENOTCONN",
    10058: "ESHUTDOWN",
    10060: "ETIMEDOUT",
    10061: "ECONNREFUSED",
    10064: "EHOSTDOWN",
    10065: "EHOSTUNREACH",
}
#: errno numbers per POSIX platform (they differ: ENOTCONN is 107 on Linux, 57 on macOS).
ERRNO_NUMBERS: dict[str, dict[str, int]] = {
    "linux": {
        "EINTR": 4,
        "EBADF": 9,
        "EACCES": 13,
        "EFAULT": 14,
        "EINVAL": 22,
        "EMFILE": 24,
        "EWOULDBLOCK": 11,
        "EINPROGRESS": 115,
        "EALREADY": 114,
        "ENOTSOCK": 88,
        "EDESTADDRREQ": 89,
        "EMSGSIZE": 90,
        "EPROTOTYPE": 91,
        "ENOPROTOOPT": 92,
        "EPROTONOSUPPORT": 93,
        "ESOCKTNOSUPPORT": 94,
        "EOPNOTSUPP": 95,
        "EAFNOSUPPORT": 97,
        "EADDRINUSE": 98,
        "EADDRNOTAVAIL": 99,
        "ENETDOWN": 100,
        "ENETUNREACH": 101,
        "ENETRESET": 102,
        "ECONNABORTED": 103,
        "ECONNRESET": 104,
        "ENOBUFS": 105,
        "EISCONN": 106,
        "ENOTCONN": 107,
        "ESHUTDOWN": 108,
        "ETIMEDOUT": 110,
        "ECONNREFUSED": 111,
        "EHOSTDOWN": 112,
        "EHOSTUNREACH": 113,
    },
    "macos": {name: code - 10000 for code, name in WSA_ERRNO.items()},
}
ERRNO_NUMBERS["macos"]["EWOULDBLOCK"] = 35

_PLATFORM_EVIDENCE: dict[str, re.Pattern[str]] = {
    "windows": re.compile(r"[A-Za-z]:\\|\\Scripts\\|\bWinError\b|\.exe\b|\bwin32\b|\bPS [A-Z]:"),
    "linux": re.compile(
        r"/mnt/|/home/|/usr/(?:lib|local)|/bin/uvicorn|lib/python3|\bErrno\b|"
        r"\blinux\b",
        re.IGNORECASE,
    ),
    "macos": re.compile(r"/Users/|/opt/homebrew|\bdarwin\b|\bmacOS\b"),
}


@dataclass(frozen=True)
class DraftSignature:
    id: str
    pattern: str
    platforms: tuple[str, ...]
    description: str
    #: Empty when the card says it as is; otherwise what it was guessed from.
    guess: str = ""


def card_platforms(card: CardText) -> list[str]:
    """The operating systems the card shows the bug on, from paths and error kinds."""
    text = "\n".join(
        [*card.errors, *card.signatures, *card.triggers, *card.surfaces, *card.reruns, *card.prose]
    )
    return [name for name, evidence in _PLATFORM_EVIDENCE.items() if evidence.search(text)]


def is_prompt_line(text: str) -> bool:
    """A command echo (`(venv) C:\\lab>uvicorn ...`), not an error."""
    stripped = text.strip()
    return bool(_PROMPT.search(stripped[:200])) and find_invocation(stripped) is not None


def _exceptions(text: str) -> list[tuple[str, str]]:
    """(type, message head) of every exception in a (possibly flattened) text."""
    found = []
    for match in _EXCEPTION.finditer(text):
        message = match.group("message") or ""
        end = _MESSAGE_END.search(message)
        if end is not None:
            message = message[: end.start()]
        found.append((match.group("type"), message.strip()))
    return found


def _message_pattern(message: str) -> str:
    """The stable head of a message as a regex: at most 8 words, variable parts loose."""
    words = message.split()[:8]
    parts = []
    for word in words:
        if re.search(r"[/\\]", word) or re.fullmatch(r"0x[0-9a-fA-F]+\W*", word):
            parts.append(r"\S+")
        elif re.fullmatch(r"\d{3,}\W*", word):
            parts.append(r"\d+")
        else:
            parts.append(re.escape(word))
    return r"\s+".join(parts)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "failure"


def _from_exception(kind: str, message: str, platforms: list[str], where: str) -> DraftSignature:
    code = _CODE.match(message)
    said = excerpt(f"{kind}: {message}" if message else kind, 160)
    if code is not None and code.group("kind") == "WinError":
        number = code.group("code")
        return DraftSignature(
            f"winerror-{number}",
            rf"{re.escape(kind)}: \[WinError {number}\]",
            ("windows",),
            f"the card's {where}: {said}",
        )
    if code is not None:
        posix = [p for p in platforms if p in ("linux", "macos")] or ["linux"]
        number = code.group("code")
        return DraftSignature(
            f"errno-{number}",
            rf"{re.escape(kind)}: \[Errno {number}\]",
            tuple(posix),
            f"the card's {where}: {said}",
        )
    short = kind.rsplit(".", 1)[-1]
    pattern = re.escape(kind) + (r":\s+" + _message_pattern(message) if message else r"\b")
    ident = _slug(f"{short} {' '.join(message.split()[:4])}")
    on = tuple(platforms) or ("linux", "macos", "windows")
    return DraftSignature(ident, pattern, on, f"the card's {where}: {said}")


def _translated(signature: DraftSignature, platforms: list[str]) -> list[DraftSignature]:
    """POSIX twins of a Windows socket error, for POSIX platforms the card shows."""
    code = re.search(r"WinError (\d+)", signature.pattern)
    if code is None or int(code.group(1)) not in WSA_ERRNO:
        return []
    name = WSA_ERRNO[int(code.group(1))]
    twins = []
    for platform in ("linux", "macos"):
        if platform not in platforms:
            continue
        number = ERRNO_NUMBERS[platform][name]
        twins.append(
            DraftSignature(
                f"errno-{number}-{platform}",
                rf"OSError: \[Errno {number}\]",
                (platform,),
                f"{name} on {platform}: the POSIX twin of WinError {code.group(1)}",
                guess=(
                    f"translated from WinError {code.group(1)} (WSA {name}): the card shows the "
                    f"bug on {platform} too, but its {platform} transcript ends before the error"
                ),
            )
        )
    return twins


def derive_signatures(card: CardText) -> tuple[list[DraftSignature], list[str]]:
    """The signatures for a card and notes on what was passed over (prompt lines)."""
    platforms = card_platforms(card)
    notes: list[str] = []
    sources: list[tuple[str, str]] = []
    for text in card.signatures:
        if is_prompt_line(text):
            notes.append(f"Failure Signature is a command line, not an error: {excerpt(text, 60)}")
            continue
        sources.append(("Failure Signature", text))
    sources += [("error message", text) for text in card.errors]
    sources += [('"Surfaces as" line', t) for t in card.surfaces if not is_prompt_line(t)]
    sources += [('"Trigger" line', t) for t in card.triggers if not is_prompt_line(t)]
    chosen: list[DraftSignature] = []
    for where, text in sources:
        exceptions = _exceptions(text)
        if exceptions:
            kind, message = exceptions[-1]
            chosen.append(_from_exception(kind, message, platforms, where))
            break
    if not chosen:
        for text in card.prose:
            code = _PROSE_CODE.search(text)
            if code is not None:
                kind, number = code.group("kind"), code.group("code")
                on = (
                    ("windows",)
                    if kind == "WinError"
                    else tuple(p for p in platforms if p != "windows") or ("linux",)
                )
                chosen.append(
                    DraftSignature(
                        f"{kind.lower()}-{number}",
                        rf"\[{kind} {number}\]",
                        on,
                        f"{kind} {number}, as the card's prose names it",
                        guess=f"the card's tracebacks are cut before the error; taken from "
                        f"its prose: {excerpt(text, 80)}",
                    )
                )
                break
    if chosen:
        chosen += _translated(chosen[0], platforms)
    unique = {s.pattern + "|" + ",".join(s.platforms): s for s in chosen}
    return list(unique.values()), notes
