"""Check names and the validation every `[expect]` table shares.

Every expectation may carry an `id` (unique, lower-case letters, digits and
dashes); `CheckIds` hands them out (generating the missing ones) and collects
each check's `applies` conditions by its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from harness.scenario.applicability import Applicability
from harness.scenario.applies_table import AxisValues, parse_check_applies
from harness.scenario.toml_table import Table

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP method or header name
_HEADER_VALUE_RE = re.compile(r"^[\t\x20-\x7e]*$")


def check_headers(table: Table, key: str, headers: Iterable[tuple[str, str]]) -> None:
    """Header names must be tokens and values printable ASCII."""
    for name, value in headers:
        if not TOKEN_RE.fullmatch(name):
            raise table.error(key, f"{name!r} is not a valid HTTP header name")
        if not _HEADER_VALUE_RE.fullmatch(value):
            raise table.error(key, f"the value of {name!r} must be printable ASCII")


class CheckIds:
    """Hands out ids (explicit ones must be unique, missing ones are generated)
    and collects the checks' `applies` conditions by check name."""

    def __init__(self, axis_values: AxisValues | None = None) -> None:
        self.seen: set[str] = set()
        self.axis_values: AxisValues = axis_values or {}
        self.applies: dict[str, Applicability] = {}

    def conditions(self, table: Table, name: str) -> None:
        """Read the check's `applies` table, if any."""
        applies = parse_check_applies(table, self.axis_values)
        if applies is not None:
            self.applies[name] = applies

    def take(self, table: Table, default: str | None) -> str | None:
        value = table.opt_string("id")
        if value is None:
            return default
        if not ID_RE.fullmatch(value):
            raise table.error("id", f"{value!r} must be lower-case letters, digits and dashes")
        if value in self.seen:
            raise table.error("id", f"duplicate check id {value!r}")
        self.seen.add(value)
        return value
