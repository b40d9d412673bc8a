"""Parse `[[expect.compare]]`: a value compared across HTTP responses.

[[expect.compare]]
id = "date-advances"
responses = ["first", "second"]   # ids of [[expect.http]] checks
header = "date"                   # or body = true, status = true, json = "a.b"
equal = false                     # true: all the same; false: all different
"""

from __future__ import annotations

from harness.scenario.check_ids import CheckIds, check_headers
from harness.scenario.checks import CompareExpectation
from harness.scenario.toml_table import Table

#: What a comparison may compare.
_COMPARED = ("header", "body", "status", "json")


def _value(table: Table) -> str:
    """`header:NAME`, `body`, `status` or `json:a.b` from the one key given."""
    given = [key for key in _COMPARED if table.has(key)]
    if len(given) != 1:
        raise table.error("header", "give exactly one of header, body, status or json")
    key = given[0]
    if key == "header":
        header = table.string("header")
        check_headers(table, "header", [(header, "")])
        return f"header:{header.lower()}"
    if key == "json":
        path = table.string("json")
        if any(not part for part in path.split(".")):
            raise table.error("json", f"{path!r} must be a dotted path like 'state.n'")
        return f"json:{path}"
    if table.opt_bool(key) is not True:
        raise table.error(key, "must be true (compare the whole body / the status)")
    return key


def parse_compare(
    table: Table, ids: CheckIds, index: int, http_names: set[str]
) -> CompareExpectation:
    check_id = ids.take(table, f"compare-{index}")
    assert check_id is not None
    responses = table.strings("responses")
    if len(responses) < 2:
        raise table.error("responses", "must name at least two [[expect.http]] checks")
    for name in responses:
        if name not in http_names:
            known = ", ".join(sorted(http_names)) or "none"
            raise table.error("responses", f"no HTTP check is named {name!r} (known: {known})")
    if len(set(responses)) != len(responses):
        raise table.error("responses", "names a response twice")
    value = _value(table)
    equal = table.opt_bool("equal")
    if equal is None:
        raise table.error("equal", "is required: true (all the same) or false (all different)")
    ids.conditions(table, check_id)
    table.finish()
    return CompareExpectation(check_id, responses, value, equal)
