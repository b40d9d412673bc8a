"""Parse `applies` tables: the scenario's `[applies]`, its `[[applies.variant]]`s,
and the `applies = {...}` of a check (see `harness.scenario.applicability`).

Strict like the rest of the loader: every range must parse, every axis and
value must exist, and a capability probe is allowed only where a whole cell
can be skipped (the scenario and its variants), not on a single check.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.scenario.applicability import Applicability, VariantRule
from harness.scenario.checks import HttpProbe
from harness.scenario.toml_table import Table

AxisValues = dict[str, set[str]]
ProbeParser = Callable[[Table], HttpProbe]


def parse_when(table: Table, axis_values: AxisValues) -> dict[str, frozenset[str]]:
    """`{axis = "value"}` or `{axis = ["a", "b"]}`: every axis and value must exist."""
    when: dict[str, frozenset[str]] = {}
    for axis in list(table.field_names()):
        if axis not in axis_values:
            known = ", ".join(sorted(axis_values)) or "none"
            raise table.error(axis, f"is not a matrix axis of this scenario (axes: {known})")
        values = table.string_or_strings(axis) or ()
        unknown = sorted(set(values) - axis_values[axis])
        if not values or unknown:
            allowed = ", ".join(sorted(axis_values[axis]))
            bad = unknown[0] if unknown else "nothing"
            raise table.error(axis, f"{bad!r} is not a value of axis {axis} ({allowed})")
        when[axis] = frozenset(values)
    table.finish()
    return when


def _help_lists(table: Table) -> tuple[str, ...]:
    texts = table.string_or_strings("help_lists") or ()
    for text in texts:
        if not text.strip() or "\x00" in text:
            raise table.error("help_lists", "each text must be non-empty (an option, e.g. --foo)")
    return texts


def parse_applies(
    table: Table,
    axis_values: AxisValues,
    probe: ProbeParser | None = None,
    with_when: bool = False,
) -> Applicability:
    """The conditions of one `applies` table (`table.finish()` is the caller's
    when the table has keys of its own, like a variant's `when`)."""
    versions = table.specifier("versions")
    python = table.specifier("python")
    when = parse_when(table.table("when"), axis_values) if with_when else {}
    help_lists = _help_lists(table)
    found: HttpProbe | None = None
    if table.has("probe"):
        if probe is None:
            raise table.error("probe", "a check cannot have a probe (only [applies] and variants)")
        found = probe(table.table("probe"))
    return Applicability(versions, python, when, help_lists, found)


def parse_check_applies(table: Table, axis_values: AxisValues) -> Applicability | None:
    """A check's `applies = {versions, python, when, help_lists}` (None when absent)."""
    if not table.has("applies"):
        table.table("applies")  # marks the key as read
        return None
    inner = table.table("applies")
    applies = parse_applies(inner, axis_values, with_when=True)
    inner.finish()
    if applies.empty:
        raise table.error("applies", "names no condition (versions, python, when, help_lists)")
    return applies


def parse_scenario_applies(
    table: Table, axis_values: AxisValues, probe: ProbeParser
) -> tuple[Applicability, tuple[VariantRule, ...]]:
    """`[applies]` and its `[[applies.variant]]` rules."""
    applies = parse_applies(table, axis_values, probe)
    rules = []
    for entry in table.tables("variant"):
        if not entry.has("when"):
            raise entry.error(
                "when", "is required: the axis values of the variant, e.g. {http = 'h11'}"
            )
        when = parse_when(entry.table("when"), axis_values)
        conditions = parse_applies(entry, axis_values, probe)
        entry.finish()
        if conditions.empty:
            raise entry.error(
                "when", "the variant names no condition (versions, python, help_lists, probe)"
            )
        rules.append(VariantRule(when, conditions))
    table.finish()
    return applies, tuple(rules)
