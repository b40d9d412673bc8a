"""Compare values across HTTP responses: a header, the body, the status, a JSON field.

Some bugs only show between two responses: a `date` header frozen for the
life of a keep-alive connection, state leaking from one request into the
next.  The HTTP probes record what they received (`Answer`); a comparison
then checks that the chosen value is the same in all of them, or different
in each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.runner.observation import Check
from harness.scenario.checks import CompareExpectation

_SHOWN = 80


@dataclass(frozen=True)
class Answer:
    """A complete HTTP response as a probe received it."""

    status: int
    #: Header name (lower-case) -> every value, in order.
    headers: Mapping[str, tuple[str, ...]]
    body: str


class _Missing(Exception):
    """The value is not in the response (no such header, not JSON, no such field)."""


def _json_field(body: str, path: str) -> Any:
    try:
        value: Any = json.loads(body)
    except ValueError:
        raise _Missing("the body is not JSON") from None
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise _Missing(f"no field {path}")
        value = value[part]
    return value


def value_of(answer: Answer, what: str) -> Any:
    """The compared value: `status`, `body`, `header:NAME` (all its values) or `json:a.b`."""
    if what == "status":
        return answer.status
    if what == "body":
        return answer.body
    kind, _, name = what.partition(":")
    if kind == "header":
        values = answer.headers.get(name)
        if not values:
            raise _Missing(f"no {name} header")
        return values[0] if len(values) == 1 else list(values)
    return _json_field(answer.body, name)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def compare_check(
    expectation: CompareExpectation,
    answers: Mapping[str, Answer],
    skipped: Sequence[str] = (),
) -> Check:
    """Equal (or all different) across the named responses; a missing response or
    value fails the check, a skipped probe makes it not apply."""
    name = expectation.id
    not_run = [response for response in expectation.responses if response in skipped]
    if not_run:
        return Check(name, True, f"not applicable: {not_run[0]} did not run", skipped=True)
    values: list[tuple[str, Any]] = []
    for response in expectation.responses:
        answer = answers.get(response)
        if answer is None:
            return Check(name, False, f"{response} got no complete response to compare")
        try:
            values.append((response, value_of(answer, expectation.value)))
        except _Missing as missing:
            return Check(name, False, f"{response}: {missing}")
    listing = ", ".join(f"{response}: {_shown(value)}" for response, value in values)
    distinct = {json.dumps(value, sort_keys=True, default=str) for _, value in values}
    label = _label(expectation.value)
    if expectation.equal:
        ok = len(distinct) == 1
        verdict = "the same in each" if ok else "differs, wanted the same in each"
    else:
        ok = len(distinct) == len(values)
        verdict = "different in each" if ok else "repeats, wanted different in each"
    return Check(name, ok, f"{label} {verdict} ({listing})")


def _label(what: str) -> str:
    """`header:date` -> "the date header"; `json:a.b` -> "JSON field a.b"."""
    kind, _, name = what.partition(":")
    if kind == "header":
        return f"the {name} header"
    if kind == "json":
        return f"JSON field {name}"
    return f"the {kind}"
