"""The one rule for links a report may make clickable: plain http(s) URLs.

Scenario files and results files name upstream issues and fixes, and reports
turn them into `<a href>` (HTML) and `[issue](<url>)` (Markdown).  Browsers
forgive a lot in a scheme (`  JaVaScRiPt:`, `java\\tscript:` and
`data:` all run or load something), so the rule is an allow-list applied to
the text exactly as written: no whitespace, no control characters, none of
the characters that end a Markdown or HTML link, an `http` or `https` scheme
and a host.  The scenario loader refuses anything else; `report` drops it
from results files with a note.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: Printable ASCII without space, quotes, angle brackets, backslash or backtick.
_URL_CHARS = re.compile(r"[!#-&(-;=?-\[\]-_a-z{-~]+")
SCHEMES = ("http", "https")
#: Longer than any real issue or pull request address; keeps reports bounded.
MAX_LINK = 2000


def link_problem(text: str) -> str | None:
    """Why `text` may not be a link in a report; None when it is a plain http(s) URL."""
    if len(text) > MAX_LINK:
        return f"is longer than {MAX_LINK} characters"
    if not _URL_CHARS.fullmatch(text):
        return "must be an http(s) URL without spaces, quotes or control characters"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in SCHEMES or not text.lower().startswith(("http://", "https://")):
        return f"must start with http:// or https:// (got scheme {parts.scheme or 'none'!r})"
    if not parts.hostname:
        return "must name a host"
    return None


def is_safe_link(text: object) -> bool:
    """True for a string that `link_problem` accepts."""
    return isinstance(text, str) and link_problem(text) is None


def drop_unsafe(
    where: str, issue: object, fix: object, links: object
) -> tuple[str | None, str | None, tuple[str, ...], list[str]]:
    """(issue, fix, links) keeping only safe links, and one note per dropped one.

    For values read from a results file, where anything may be found: a value
    that is not a string is dropped like an unsafe one.
    """
    notes: list[str] = []

    def keep(field: str, value: object) -> str | None:
        if value is None or is_safe_link(value):
            return value  # type: ignore[return-value]
        notes.append(f"{where}: upstream {field} dropped: not a plain http(s) link")
        return None

    listed = links if isinstance(links, (list, tuple)) else [links] if links else []
    kept = (keep(f"links[{n}]", link) for n, link in enumerate(listed))
    return keep("issue", issue), keep("fix", fix), tuple(k for k in kept if k is not None), notes
