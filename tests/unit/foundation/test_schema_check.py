"""The JSON Schema subset results files are checked with (harness.schema_check)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.schema_check import SchemaViolation, Validator, check_depth

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {
        "id": {"const": 1},
        "flag": {"type": "boolean"},
        "count": {"type": ["integer", "null"], "minimum": 0},
        "kind": {"enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "map": {"type": "object", "additionalProperties": {"$ref": "#/$defs/leaf"}},
    },
    "$defs": {"leaf": {"type": "number"}},
}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "id: is required"),
        ({"id": True}, "id: must be 1, got True"),
        ({"id": 1, "flag": "false"}, "flag: must be boolean, got string"),
        ({"id": 1, "count": -1}, "count: must be at least 0, got -1"),
        ({"id": 1, "count": 1.5}, "count: must be integer or null, got number"),
        ({"id": 1, "kind": "c"}, "kind: must be one of a, b, got 'c'"),
        ({"id": 1, "tags": ["x", 2]}, "tags[1]: must be string, got integer"),
        ({"id": 1, "map": {"k": "v"}}, "map.k: must be number, got string"),
        ({"id": 1, "other": 1}, "other: unknown field"),
        ([], "the top level: must be object, got array"),
    ],
)
def test_the_first_problem_is_named(value: Any, message: str) -> None:
    with pytest.raises(SchemaViolation) as caught:
        Validator(SCHEMA).check(value)
    assert str(caught.value) == message


def test_depth_is_limited_without_recursion() -> None:
    value: Any = 0
    for _ in range(10_000):
        value = [value]
    with pytest.raises(SchemaViolation, match="nested more than 32 levels"):
        check_depth(value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3) | st.sampled_from("ab"),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "flag", "count", "kind", "tags", "map", "k"]), inner
        )
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(list(SCHEMA["properties"])), JSON) | JSON)
def test_it_agrees_with_jsonschema(value: Any) -> None:
    json.dumps(value)
    try:
        Validator(SCHEMA).check(value)
        ours = True
    except SchemaViolation:
        ours = False
    assert ours == jsonschema.Draft202012Validator(SCHEMA).is_valid(value)
