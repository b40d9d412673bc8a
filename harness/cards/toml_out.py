"""Write TOML values and comments safely: drafted files carry untrusted card text.

Every string goes through `string()` (escaped, never raw), every comment
through `comment()` (one line, printable, bounded), so nothing from a card can
end a string, open a table or add a key.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.cards.text import excerpt


def string(value: str) -> str:
    """A TOML string: literal ('...') for readable regexes when safe, else escaped."""
    if "'" not in value and all(ch.isprintable() for ch in value):
        return f"'{value}'"
    out = []
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(string(v) for v in values) + "]"


def comment(text: str, limit: int = 200) -> str:
    """A `# ...` line with a sanitised excerpt of `text`."""
    return "# " + excerpt(text, limit)
