"""Labels for upstream links: "issue #974", "PR #975", not "upstream issue · fix · related".

A reader decides whether to click from the number; a label without one says
nothing.  GitHub and GitLab issue and pull/merge-request URLs get their kind and
number, anything else its host and last path segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_NUMBERED = re.compile(
    r"/(?P<kind>issues|pull|pulls|merge_requests|discussions)/(?P<number>\d+)(?:[/?#]|$)"
)
_KINDS = {
    "issues": "issue",
    "pull": "PR",
    "pulls": "PR",
    "merge_requests": "MR",
    "discussions": "discussion",
}


@dataclass(frozen=True)
class Link:
    url: str
    #: "issue #974", "PR #975", or "example.org/page".
    label: str
    #: "#974" (short, for a range in the overview), or the label.
    short: str
    #: What the scenario calls it: "issue", "fix" or "related".
    role: str


def link_label(url: str) -> tuple[str, str]:
    """(label, short label) of a URL."""
    match = _NUMBERED.search(urlsplit(url).path)
    if match:
        kind = _KINDS[match.group("kind")]
        return f"{kind} #{match.group('number')}", f"#{match.group('number')}"
    parts = urlsplit(url)
    tail = parts.path.rstrip("/").rsplit("/", 1)[-1]
    label = f"{parts.netloc}/{tail}" if tail else parts.netloc or url
    return label, label


def upstream_links(issue: str | None, fix: str | None, related: tuple[str, ...]) -> list[Link]:
    """The scenario's links in reading order (issue, fix, related), each labelled."""
    found = []
    for role, url in [("issue", issue), ("fix", fix), *(("related", u) for u in related)]:
        if url:
            label, short = link_label(url)
            if role == "fix" and label.startswith("PR "):
                label = f"fix: {label}"
            found.append(Link(url, label, short, role))
    return found
