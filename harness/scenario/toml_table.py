"""A TOML table read field by field, with one-line errors naming file and field.

Scenario files are data reviewed like code, so reading is strict: every
accessor checks the type, and `finish()` reports keys nobody asked for.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness import patterns
from harness.errors import ScenarioError
from harness.platforms import KNOWN_PLATFORMS

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+(?:\[[0-9]+\])?")
#: Upper bound of every time limit: a wait must end in a human time scale.
MAX_LIMIT_S = 3600.0


class Table:
    """A TOML table read field by field; leftovers are reported as unknown keys."""

    def __init__(self, data: dict[str, Any], source: str, path: str) -> None:
        self._data = data
        self._seen: set[str] = set()
        self.source = source
        self.path = path

    def error(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, self._field(key), problem)

    def _field(self, key: str) -> str:
        # Keys that are not bare TOML keys are quoted, so the message stays one line.
        shown = key if _BARE_KEY_RE.fullmatch(key) else json.dumps(key)
        return f"{self.path}.{shown}" if self.path else shown

    def _get(self, key: str) -> Any:
        self._seen.add(key)
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return key in self._data

    def string(self, key: str, default: str | None = None) -> str:
        value = self._get(key)
        if value is None:
            if default is None:
                raise self.error(key, "is required")
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        _no_nul(self, key, value)
        return value

    def opt_string(self, key: str, keep_empty: bool = False) -> str | None:
        """An optional string; an empty string counts as absent unless `keep_empty`."""
        if not self.has(key):
            self._seen.add(key)
            return None
        value = self.string(key, "")
        return value if (value or keep_empty) else None

    def number(
        self, key: str, default: float, minimum: float = 0.0, maximum: float = MAX_LIMIT_S
    ) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise self.error(key, f"must be a finite number, got {value}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise self.error(key, f"must be at most {maximum:g}, got {value}")
        return float(value)

    def opt_int(self, key: str, minimum: int = 0, maximum: int | None = None) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {type(value).__name__}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {value}")
        return value

    def strings(self, key: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "must be a list of strings")
        for item in value:
            _no_nul(self, key, item)
        return tuple(value)

    def int_list(self, key: str, default: Iterable[int]) -> tuple[int, ...]:
        value = self._get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            raise self.error(key, "must be a list of integers")
        return tuple(value)

    def string_map(self, key: str) -> dict[str, str]:
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.error(key, "must be a table of string values")
        for name, item in value.items():
            _no_nul(self, key, name)
            _no_nul(self, key, item)
        return dict(value)

    def table(self, key: str) -> Table:
        value = self._get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {type(value).__name__}")
        return Table(value, self.source, self._field(key))

    def tables(self, key: str) -> Iterator[Table]:
        value = self._get(key)
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(key, "must be an array of tables ([[...]])")
        for index, item in enumerate(value):
            yield Table(item, self.source, f"{self._field(key)}[{index}]")

    def regex(self, key: str, flags: int = re.MULTILINE) -> re.Pattern[str]:
        text = self.string(key)
        try:
            pattern = re.compile(text, flags)
            patterns.check(pattern)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            raise self.error(key, f"is not a valid regular expression: {exc}") from None
        return pattern

    def version(self, key: str) -> Version | None:
        text = self.opt_string(key)
        if text is None:
            return None
        try:
            return Version(text)
        except InvalidVersion:
            raise self.error(key, f"{text!r} is not a valid version") from None

    def platforms(self, key: str, default: Iterable[str]) -> frozenset[str]:
        names = self.strings(key, default)
        unknown = sorted(set(names) - KNOWN_PLATFORMS)
        if unknown:
            known = ", ".join(sorted(KNOWN_PLATFORMS))
            raise self.error(key, f"unknown platform {unknown[0]!r} (known: {known})")
        if not names:
            raise self.error(key, "must name at least one platform")
        return frozenset(names)

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self.error(unknown[0], "unknown field")

    def opt_number(self, key: str, minimum: float = 0.0) -> float | None:
        if not self.has(key):
            self._seen.add(key)
            return None
        return self.number(key, 0.0, minimum)

    def opt_bool(self, key: str) -> bool | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {type(value).__name__}")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.opt_bool(key)
        return default if value is None else value

    def choice(self, key: str, choices: Iterable[str], default: str) -> str:
        value = self.string(key, default)
        allowed = tuple(choices)
        if value not in allowed:
            raise self.error(key, f"must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def opt_regex(self, key: str, flags: int = re.MULTILINE) -> re.Pattern[str] | None:
        if not self.has(key):
            self._seen.add(key)
            return None
        return self.regex(key, flags)

    def specifier(self, key: str) -> SpecifierSet | None:
        text = self.opt_string(key)
        if text is None:
            return None
        try:
            return SpecifierSet(text)
        except InvalidSpecifier:
            raise self.error(key, f"{text!r} is not a version range like '<3.11'") from None

    def string_or_strings(self, key: str) -> tuple[str, ...] | None:
        """A string or a list of strings (None when absent).  NUL is allowed here:
        raw exchanges may send any byte."""
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.error(key, "must be a string or a list of strings")

    def raw(self, key: str) -> Any:
        """The value as TOML gave it (the caller validates it)."""
        return self._get(key)

    def field_names(self) -> list[str]:
        return list(self._data)


def _no_nul(table: Table, key: str, text: str) -> None:
    """NUL cannot be passed to a process or an HTTP request; refuse it up front."""
    if "\x00" in text:
        raise table.error(key, "must not contain a NUL character")
