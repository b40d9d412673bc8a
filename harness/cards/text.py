"""Read a fix card's text into its facts, without judging them.

Cards are scraped web pages flattened to text: headings on their own lines,
bullets, "label: value" lines, code blocks whose newlines were lost, and
excerpts cut with "... (truncated) ...".  Any field may be missing.  This
module only finds what is there; deciding what it means (the command, the
signature, the platforms) is `harness.cards.draft`'s job.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError

#: A card is a page of text; anything larger is not a card.
MAX_CARD_BYTES = 1024 * 1024
#: No single value kept from a card is longer than this.
MAX_VALUE_CHARS = 64 * 1024
#: Short excerpts for messages and comments.
EXCERPT_CHARS = 100

HEADINGS = (
    "The Fix",
    "Why This Fix Works in Production",
    "Why This Breaks in Prod",
    "Proof / Evidence",
    "Discussion",
    "Failure Signature (Search String)",
    "Error Message",
    "Minimal Reproduction",
    "Environment",
    "What Broke",
    "Why It Broke",
    "Fix Options (Details)",
    "When NOT to Use This Fix",
    "Verify Fix",
    "Did This Fix Work in Your Case?",
    "Prevention",
    "Version Compatibility Table",
    "Related Issues",
    "Sources",
    "Get updates",
)
_BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa*-]\s+)?")
_TRUNCATED = re.compile(r"\.\.\.\s*\(truncated\)\s*\.\.\.|\u2026\s*$")


class CardError(UsageError):
    """The card cannot be read or cannot give what a draft needs (exit 3)."""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line, printable excerpt of untrusted text."""
    clean = "".join(ch if ch.isprintable() else " " for ch in unicodedata.normalize("NFC", text))
    clean = re.sub(r"\s+", " ", clean).strip()
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "\u2026"


def is_truncated(text: str) -> bool:
    return bool(_TRUNCATED.search(text))


@dataclass
class CardText:
    """What a card says, field by field (raw text, bounded; absent is empty)."""

    source: str
    repo: str = ""
    issue: str = ""
    fix_url: str = ""
    fixed_in: list[str] = field(default_factory=list)
    pythons: list[str] = field(default_factory=list)
    repro: list[str] = field(default_factory=list)
    reruns: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    surfaces: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    what_broke: str = ""
    why_broke: str = ""
    prose: list[str] = field(default_factory=list)
    discussion: list[str] = field(default_factory=list)
    introduced_in: list[str] = field(default_factory=list)
    text: str = ""


def read_card(path: Path) -> CardText:
    """Read and parse a card file; a clear `CardError` when it is no card at all."""
    try:
        size = path.stat().st_size
        if size > MAX_CARD_BYTES:
            raise CardError(f"{path}: {size} bytes; a fix card is at most {MAX_CARD_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        raise CardError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if b"\0" in data:
        raise CardError(f"{path}: binary data, not a fix card")
    return parse_card(data.decode("utf-8", errors="replace"), path.name)


def _sections(lines: list[str]) -> dict[str, list[str]]:
    """Heading -> the lines under it (a heading may repeat: lines are appended)."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines:
        stripped = line.strip()
        if stripped in HEADINGS:
            current = stripped
            sections.setdefault(current, [])
            continue
        sections[current].append(line)
    return sections


def _blocks(lines: list[str], label: str) -> list[str]:
    """The line after each line that is exactly `label` (e.g. `repro.py`)."""
    found = []
    for index, line in enumerate(lines[:-1]):
        if line.strip() == label and lines[index + 1].strip():
            found.append(lines[index + 1].strip()[:MAX_VALUE_CHARS])
    return found


def _labelled(text: str, label: str) -> list[str]:
    """Values of `label: value` wherever they appear (bullets stripped)."""
    pattern = re.compile(rf"(?im)^[^\S\n]*(?:[\u2022*-][^\S\n]*)?{label}[^\S\n]*:[^\S\n]*(.+)$")
    return [m.group(1).strip()[:MAX_VALUE_CHARS] for m in pattern.finditer(text)]


def _bullets(lines: list[str]) -> list[str]:
    return [_BULLET.sub("", line).strip() for line in lines if line.strip()]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def parse_card(text: str, source: str) -> CardText:
    """Every field the card's text format can carry; never raises on odd input."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    lines = text.split("\n")
    sections = _sections(lines)
    card = CardText(source=source, text=text)
    based = re.search(r"Based on (?:closed |open )?([\w.-]+/[\w.-]+) issue #(\d+)", text)
    if based:
        card.repo, card.issue = based.group(1), based.group(2)
    issue_urls = re.findall(r"https?://github\.com/([\w.-]+/[\w.-]+)/issues/(\d+)", text)
    for value in _labelled(text, "GitHub issue"):
        number = re.search(r"#?(\d+)\s*$", value)
        if number and not card.issue:
            card.issue = number.group(1)
        url = re.search(r"github\.com/([\w.-]+/[\w.-]+)/issues/(\d+)", value)
        if url and not card.repo:
            card.repo, card.issue = url.group(1), url.group(2)
    if not card.issue and issue_urls:
        card.repo, card.issue = issue_urls[0]
    for label in ("Fix PR", "Fix reference"):
        for value in _labelled(text, label):
            url = re.search(r"https?://github\.com/[\w.-]+/[\w.-]+/(?:pull|commit)/\w+", value)
            if url and not card.fix_url:
                card.fix_url = url.group(0)
    card.fixed_in = _unique(
        [v.split()[0].rstrip(".,;)") for v in _labelled(text, "First fixed release") if v]
        + re.findall(r"first fixed release:\s*v?([\w.]+?)[.)]*(?:\s|$)", text, re.IGNORECASE)
        + re.findall(r"Upgrade to version v?(\S+?) or later", text)
    )
    card.pythons = _unique(
        re.findall(r"Shows up under Python (\d+\.\d+)", text)
        + [m for v in _labelled(text, "Python") for m in re.findall(r"^(\d+\.\d+)\b", v)]
    )
    card.repro = _unique(_blocks(lines, "repro.py"))
    card.reruns = _unique(_labelled(text, "Re-run"))
    card.triggers = _unique(_labelled(text, "Trigger"))
    card.surfaces = _unique(_labelled(text, "Surfaces as"))
    card.signatures = _unique(_bullets(sections.get("Failure Signature (Search String)", [])))
    card.errors = _unique(
        [
            re.sub(r"^Error Message\s*-+\s*", "", line.strip())[:MAX_VALUE_CHARS]
            for line in lines
            if line.strip().startswith("Error Message") and line.strip() != "Error Message"
        ]
    )
    card.what_broke = " ".join(_bullets(sections.get("What Broke", [])))[:2000]
    card.why_broke = " ".join(_bullets(sections.get("Why It Broke", [])))[:2000]
    card.prose = _unique(
        _labelled(text, "Mechanism") + _labelled(text, "Why the fix works") + [card.what_broke]
    )
    card.discussion = _unique(_bullets(sections.get("Discussion", [])))[:50]
    card.introduced_in = _unique(
        re.findall(
            r"(?:introduced|regressed|broken|broke) in (?:version |release )?"
            r"v?(\d+\.\d+(?:\.\d+)?)",
            text,
            re.IGNORECASE,
        )
    )
    return card
