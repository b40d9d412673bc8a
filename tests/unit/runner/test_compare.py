"""Comparisons between HTTP responses: a header, the body, the status, a JSON field."""

from __future__ import annotations

from harness.runner.probes.compare import Answer, compare_check
from harness.scenario.checks import CompareExpectation


def answer(body: str = "hello", status: int = 200, **headers: str) -> Answer:
    return Answer(status, {name: (value,) for name, value in headers.items()}, body)


def test_a_header_that_must_change_between_responses() -> None:
    dates = CompareExpectation("date-advances", ("first", "second"), "header:date", equal=False)
    same = {"first": answer(date="Mon, 1"), "second": answer(date="Mon, 1")}
    check = compare_check(dates, same)
    assert not check.ok
    assert check.detail == (
        "the date header repeats, wanted different in each (first: 'Mon, 1', second: 'Mon, 1')"
    )
    later = {"first": answer(date="Mon, 1"), "second": answer(date="Mon, 3")}
    assert compare_check(dates, later).ok


def test_bodies_and_json_fields_that_must_be_the_same() -> None:
    bodies = CompareExpectation("state", ("a", "b", "c"), "body", equal=True)
    counted = {"a": answer("n=1"), "b": answer("n=2"), "c": answer("n=3")}
    check = compare_check(bodies, counted)
    assert not check.ok and "the body differs, wanted the same in each" in check.detail
    assert compare_check(bodies, {k: answer("n=1") for k in "abc"}).ok
    field = CompareExpectation("n", ("a", "b"), "json:state.n", equal=True)
    json_answers = {"a": answer('{"state": {"n": 1}}'), "b": answer('{"state": {"n": 1}}')}
    assert compare_check(field, json_answers).ok
    status = CompareExpectation("s", ("a", "b"), "status", equal=True)
    assert not compare_check(status, {"a": answer(status=200), "b": answer(status=500)}).ok


def test_a_missing_response_or_value_fails_and_a_skipped_probe_does_not_apply() -> None:
    dates = CompareExpectation("d", ("first", "second"), "header:date", equal=False)
    check = compare_check(dates, {"first": answer(date="x")})
    assert not check.ok and check.detail == "second got no complete response to compare"
    check = compare_check(dates, {"first": answer(date="x"), "second": answer()})
    assert not check.ok and check.detail == "second: no date header"
    field = CompareExpectation("n", ("a", "b"), "json:state.n", equal=True)
    check = compare_check(field, {"a": answer("not json"), "b": answer("{}")})
    assert check.detail == "a: the body is not JSON"
    check = compare_check(field, {"a": answer("{}"), "b": answer("{}")})
    assert check.detail == "a: no field state.n"
    skipped = compare_check(dates, {}, skipped=("second",))
    assert skipped.ok and skipped.skipped and skipped.detail.startswith("not applicable: ")
