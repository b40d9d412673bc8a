"""`{name}` placeholders in scenario commands, environment values and paths.

Scenarios name things the harness only knows when a cell runs (the port it
picked, the Unix socket path, a matrix axis value); the loader checks that every
placeholder is one the cell will know, and the runner fills them in.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping


class PlaceholderError(ValueError):
    """A template uses bad syntax or a name that will not be known."""


def check_template(template: str, known: Iterable[str]) -> None:
    """Raise PlaceholderError naming the first unknown placeholder and the known ones.

    Only plain `{name}` placeholders: no conversions, format specs or indexing.
    """
    allowed = set(known)
    listed = ", ".join("{" + name + "}" for name in sorted(allowed))
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PlaceholderError(f"bad placeholder syntax in {template!r}: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            shown = "{" + name + "}"
            raise PlaceholderError(f"unknown placeholder {shown} (known: {listed})")
        if spec or conversion:
            raise PlaceholderError(f"placeholder {{{name}}} takes no format or conversion")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill a template checked by `check_template` (missing names are a bug)."""
    return template.format_map(dict(values))
