"""Parse a scenario's `[[signature]]`s: what shows each known failure, and its claim.

A signature matches on any combination of a regex over the output, checks
that failed (optionally with a detail pattern, a timeout or a minimum
duration), checks that passed, and the exit status; at least one of them is
required.  The claim is `introduced_in`/`fixed_in`, or `ranges`, a list of
such pairs oldest first when the bug was fixed and came back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.version import Version

from harness.scenario.applies_table import AxisValues, parse_when
from harness.scenario.check_ids import ID_RE
from harness.scenario.signatures import SIGNAL_NAMES, Claim, ClaimRange, Signature
from harness.scenario.toml_table import Table

_MATCHERS = ("pattern", "checks", "exit_code", "exit_signal", "check_detail", "timed_out",
             "min_elapsed_s")  # fmt: skip


def _known_checks(table: Table, key: str, names: tuple[str, ...], known: set[str]) -> None:
    for name in names:
        if name not in known:
            listed = ", ".join(sorted(known))
            raise table.error(key, f"no check is named {name!r} (known: {listed})")


def _range(table: Table, where: str) -> ClaimRange:
    introduced = table.version("introduced_in")
    fixed = table.version("fixed_in")
    if introduced is not None and fixed is not None and introduced >= fixed:
        raise table.error("introduced_in", f"must be older than fixed_in{where}")
    return ClaimRange(introduced, fixed)


def _claim(table: Table) -> Claim:
    """`introduced_in`/`fixed_in`, or `ranges = [{...}, ...]` (not both)."""
    if not table.has("ranges"):
        table.table("ranges")  # marks the key as read
        first = _range(table, "")
        return Claim(fixed_in=first.fixed_in, introduced_in=first.introduced_in)
    if table.has("fixed_in") or table.has("introduced_in"):
        raise table.error("ranges", "give either ranges or introduced_in/fixed_in, not both")
    ranges = []
    for entry in table.tables("ranges"):
        claim_range = _range(entry, "")
        entry.finish()
        if claim_range.introduced_in is None and claim_range.fixed_in is None:
            raise entry.error("fixed_in", "a range needs introduced_in, fixed_in or both")
        ranges.append(claim_range)
    if len(ranges) < 2:
        raise table.error("ranges", "lists fewer than two ranges: use introduced_in/fixed_in")
    _check_order(table, ranges)
    first, *later = ranges
    return Claim(fixed_in=first.fixed_in, introduced_in=first.introduced_in, later=tuple(later))


def _check_order(table: Table, ranges: list[ClaimRange]) -> None:
    """Oldest first, no overlap: only the first range may be open below, only
    the last open above, and each starts after the previous one is fixed."""
    for index, claim_range in enumerate(ranges):
        if index > 0 and claim_range.introduced_in is None:
            raise table.error(
                f"ranges[{index}]", "needs introduced_in (only the first may omit it)"
            )
        if index < len(ranges) - 1 and claim_range.fixed_in is None:
            raise table.error(f"ranges[{index}]", "needs fixed_in (only the last may omit it)")
        if index > 0:
            fixed: Version | None = ranges[index - 1].fixed_in
            introduced = claim_range.introduced_in
            if fixed is not None and introduced is not None and introduced < fixed:
                raise table.error(
                    f"ranges[{index}]",
                    f"introduced_in {introduced} is before the previous range's fixed_in {fixed}",
                )


def _exit_codes(table: Table) -> tuple[int, ...]:
    value = table.raw("exit_code")
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise table.error("exit_code", "must be an integer or a list of integers")
    for code in values:
        if not -255 <= code <= 255:
            raise table.error("exit_code", f"{code} is not an exit status (-255..255)")
    return tuple(values)


def _regex_map(table: Table, key: str, known: set[str]) -> dict[str, re.Pattern[str]]:
    inner = table.table(key)
    found: dict[str, re.Pattern[str]] = {}
    for name in inner.field_names():
        _known_checks(table, key, (name,), known)
        found[name] = inner.regex(name)
    inner.finish()
    return found


def _seconds_map(table: Table, key: str, known: set[str]) -> dict[str, float]:
    inner = table.table(key)
    found: dict[str, float] = {}
    for name in inner.field_names():
        _known_checks(table, key, (name,), known)
        found[name] = inner.number(name, 0.0)
    inner.finish()
    return found


def _signal(table: Table) -> str | None:
    name = table.opt_string("exit_signal")
    if name is not None and name not in SIGNAL_NAMES:
        raise table.error(
            "exit_signal", f"{name!r} is not one of {', '.join(sorted(SIGNAL_NAMES))}"
        )
    return name


def parse_signatures(
    tables: Iterator[Table],
    scenario_platforms: frozenset[str],
    axis_values: AxisValues,
    check_ids: set[str],
) -> tuple[Signature, ...]:
    """`axis_values`: every axis a signature's `when` may name, with its values."""
    signatures: list[Signature] = []
    seen: set[str] = set()
    for table in tables:
        signature_id = table.string("id")
        if not ID_RE.fullmatch(signature_id):
            raise table.error("id", f"{signature_id!r} must be lower-case letters, digits, dashes")
        if signature_id in seen:
            raise table.error("id", f"duplicate signature id {signature_id!r}")
        seen.add(signature_id)
        if not any(table.has(key) for key in _MATCHERS):
            raise table.error(
                "pattern",
                "is required (or `checks`, `exit_code`, `exit_signal`, `check_detail`, "
                "`timed_out`, `min_elapsed_s`: what shows the failure)",
            )
        claim = _claim(table)
        checks = table.strings("checks")
        passed_checks = table.strings("passed_checks")
        timed_out = table.strings("timed_out")
        for key, names in (("checks", checks), ("passed_checks", passed_checks),
                           ("timed_out", timed_out)):  # fmt: skip
            _known_checks(table, key, names, check_ids)
        signatures.append(
            Signature(
                id=signature_id,
                pattern=table.opt_regex("pattern"),
                platforms=table.platforms("platforms", sorted(scenario_platforms)),
                claim=claim,
                description=table.string("description", ""),
                checks=checks,
                passed_checks=passed_checks,
                python=table.specifier("python"),
                when=parse_when(table.table("when"), axis_values),
                flaky=table.boolean("flaky"),
                exit_codes=_exit_codes(table),
                exit_signal=_signal(table),
                check_detail=_regex_map(table, "check_detail", check_ids),
                timed_out=timed_out,
                min_elapsed_s=_seconds_map(table, "min_elapsed_s", check_ids),
            )
        )
        table.finish()
    return tuple(signatures)
