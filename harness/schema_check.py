"""Check parsed JSON against a JSON Schema, strictly, naming the first bad field.

Results files come from shard jobs, other machines and pull requests; a
reader that takes `"expected": "false"` for true, or crashes on `"checks":
"x"`, is a reader that can be lied to.  The results format is published as a
JSON Schema (`harness/results.schema.json`); this is the small part of JSON
Schema that file uses (`type`, `properties`, `required`,
`additionalProperties`, `items`, `enum`, `const`, `minimum`, local `$ref`),
so the harness needs no validator package at run time and the tests check the
same file with a full one (`jsonschema`).  Values are also limited in depth,
so nothing downstream recurses without bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Deeper than anything the harness writes (a results file nests five levels).
MAX_DEPTH = 32

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
}


class SchemaViolation(ValueError):
    """The first place where a value breaks the schema: `where` and `problem`."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the top level'}: {problem}")
        self.where = where
        self.problem = problem


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "integer" if isinstance(value, int) else "number"
    for name, kinds in _TYPES.items():
        if isinstance(value, kinds):
            return name
    return type(value).__name__


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return integral and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def _equal(value: Any, wanted: Any) -> bool:
    """JSON equality: `true` is not `1`, `1` is `1.0`, `"1"` is not `1`."""
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value is wanted
    if _is(value, "number") and _is(wanted, "number"):
        return bool(value == wanted)
    return type(value) is type(wanted) and bool(value == wanted)


def _child(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    shown = key if len(key) <= 60 else key[:59] + "…"
    return f"{where}.{shown}" if where else shown


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse values nested deeper than `limit` (without recursing)."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, where = stack.pop()
        if depth > limit:
            raise SchemaViolation(where, f"nested more than {limit} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1, _child(where, str(k))) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, depth + 1, _child(where, n)) for n, v in enumerate(item))


class Validator:
    """One schema (a parsed JSON Schema document); `check(value)` raises on the first problem."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema

    def check(self, value: Any) -> None:
        check_depth(value)
        self._check(value, self.root, "")

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            reference = str(schema["$ref"])
            if not reference.startswith("#/"):
                raise ValueError(f"only local references are supported, not {reference!r}")
            target: Any = self.root
            for part in reference[2:].split("/"):
                target = target[part]
            schema = target
        return schema

    def _check(self, value: Any, schema: Mapping[str, Any], where: str) -> None:
        schema = self._resolve(schema)
        kinds = schema.get("type")
        if kinds is not None:
            allowed = [kinds] if isinstance(kinds, str) else list(kinds)
            if not any(_is(value, kind) for kind in allowed):
                wanted = " or ".join(allowed)
                raise SchemaViolation(where, f"must be {wanted}, got {_type_name(value)}")
        if "const" in schema and not _equal(value, schema["const"]):
            raise SchemaViolation(where, f"must be {schema['const']!r}, got {value!r:.60}")
        if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
            options = ", ".join(str(option) for option in schema["enum"])
            raise SchemaViolation(where, f"must be one of {options}, got {value!r:.60}")
        if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
            raise SchemaViolation(where, f"must be at least {schema['minimum']}, got {value}")
        if isinstance(value, dict):
            self._check_object(value, schema, where)
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                self._check(item, schema["items"], _child(where, index))

    def _check_object(self, value: dict[str, Any], schema: Mapping[str, Any], where: str) -> None:
        for name in schema.get("required", ()):
            if name not in value:
                raise SchemaViolation(_child(where, name), "is required")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                self._check(item, properties[key], _child(where, key))
            elif extra is False:
                raise SchemaViolation(_child(where, key), "unknown field")
            elif isinstance(extra, Mapping):
                self._check(item, extra, _child(where, key))
