"""Text from files and servers, made safe to show: no control characters, no markup.

Server output, scenario files, results files and requirements files are written
by someone else (docs: SECURITY.md).  Shown raw, their control characters drive
the terminal (an OSC sequence sets the window title or writes the clipboard, a
carriage return overwrites a line), and square brackets become rich markup.
Everything here is pure: the console (`harness.reports.console`) applies
`visible` to every line it prints; `escape` replaces `rich.markup.escape`,
which drops the backslash of `\\[` in a regex.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, and the Unicode line,
#: paragraph and bidirectional-override characters that reorder what is shown.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: A `[` that rich would read as the start of a tag (rich.markup's own rule).
_TAG_START = re.compile(r"\[[a-z#/@][^\[]*?\]")
#: The characters an excerpt of an untrusted line keeps before it stops: a
#: distribution name's (no `=`, `:`, `/`, quotes or spaces, after which values follow).
_EXCERPT_STOP = re.compile(r"[^A-Za-z0-9._\-]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character written out (`\\x1b`), so it prints as itself."""
    return _UNSAFE.sub(_show, text)


def escape(text: str) -> str:
    """`text` as rich markup that renders exactly as `text` (control characters shown).

    rich's own `escape` leaves `\\[0-9]` alone, and rich then renders it as
    `[0-9]`; here every backslash run before a `[` is doubled (plus one when
    the bracket would open a tag), so regexes print literally.  A trailing
    backslash is doubled too, so it cannot escape the markup that follows.
    """
    text = visible(text)
    out: list[str] = []
    position = 0
    for index, char in enumerate(text):
        if char != "[":
            continue
        run = index
        while run > position and text[run - 1] == "\\":
            run -= 1
        slashes = index - run
        out.append(text[position:run])
        tag = _TAG_START.match(text, index) is not None
        out.append("\\" * (2 * slashes + 1 if tag else slashes + 1) + "[")
        position = index + 1
    tail = text[position:]
    trailing = len(tail) - len(tail.rstrip("\\"))
    out.append(tail + "\\" * trailing)
    return "".join(out)


def excerpt(line: str, limit: int = 12) -> str:
    """A short prefix of a line that is not what it should be, safe to put in a
    message: it stops at the first character a distribution name never has
    (`=`, `:`, `/`, quotes, spaces...) and after `limit` characters, so an
    included `/proc/self/environ` shows a variable's name, never its value."""
    stop = _EXCERPT_STOP.search(line)
    shown = line[: stop.start()] if stop else line
    cut = len(shown) > limit or len(shown) < len(line)
    return visible(shown[:limit]).strip() + ("…" if cut else "")
