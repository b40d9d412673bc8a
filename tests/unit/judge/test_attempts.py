"""Combining several runs of a cell: repeats, flaky outcomes, bounded retries."""

from __future__ import annotations

import re

from packaging.version import Version

from harness.judge.attempts import FLAKY_RETRIES, Attempt, combine, wants_retry
from harness.judge.classify import Verdict, classify
from harness.outcomes import Outcome
from harness.runner.observation import Check
from harness.scenario.model import Claim, Signature
from tests.unit.judge.test_classify import PORT_ZERO, observation


def attempt(
    repetition: int, retry: int, outcome: str, expected: bool, sig: str | None = None
) -> Attempt:
    fingerprint = None if sig or outcome == Outcome.PASS else f"{outcome} print"
    verdict = Verdict(outcome, sig, fingerprint, expected, outcome)
    return Attempt(repetition, retry, observation(outcome == Outcome.PASS, output=outcome), verdict)


def test_agreeing_repetitions_keep_their_outcome() -> None:
    verdict, shown = combine([attempt(1, 0, Outcome.PASS, True), attempt(2, 0, Outcome.PASS, True)])
    assert verdict.outcome == Outcome.PASS and verdict.expected
    assert shown.repetition == 2


def test_differing_repetitions_are_flaky_and_show_the_failure() -> None:
    attempts = [
        attempt(1, 0, Outcome.PASS, True),
        attempt(2, 0, Outcome.NEW_FAILURE, False),
        attempt(3, 0, Outcome.PASS, True),
    ]
    verdict, shown = combine(attempts)
    assert verdict.outcome == Outcome.FLAKY
    assert not verdict.expected
    assert (
        verdict.reason
        == "outcomes differ across 3 runs: new-failure (new-failure print) x1, pass x2"
    )
    assert shown.verdict.outcome == Outcome.NEW_FAILURE
    assert verdict.fingerprint == "new-failure print"


def test_flaky_between_expected_outcomes_is_expected() -> None:
    attempts = [
        attempt(1, 0, Outcome.PASS, True),
        attempt(2, 0, Outcome.KNOWN_FAILURE, True, "sig"),
    ]
    verdict, _ = combine(attempts)
    assert verdict.outcome == Outcome.FLAKY and verdict.expected and verdict.signature == "sig"


def test_a_retry_replaces_its_try_and_says_so() -> None:
    attempts = [
        attempt(1, 0, Outcome.KNOWN_FAILURE, False, "race"),
        attempt(1, 1, Outcome.PASS, True),
    ]
    verdict, shown = combine(attempts)
    assert verdict.outcome == Outcome.PASS
    assert verdict.reason == "pass (after 1 retry on flaky signature race)"
    assert shown is attempts[-1]


def test_only_flaky_signatures_are_retried_and_only_so_often() -> None:
    flaky = Signature("race", re.compile("x"), frozenset({"linux"}), Claim(), flaky=True)
    scenario = PORT_ZERO.__class__(**{**PORT_ZERO.__dict__, "signatures": (flaky,)})
    hit = Verdict(Outcome.KNOWN_FAILURE, "race", None, False, "")
    assert wants_retry(scenario, hit, 0)
    assert not wants_retry(scenario, hit, FLAKY_RETRIES)
    assert not wants_retry(
        PORT_ZERO, Verdict(Outcome.KNOWN_FAILURE, "port0-getpeername-enotconn", None, True, ""), 0
    )
    assert not wants_retry(scenario, Verdict(Outcome.NEW_FAILURE, None, "fp", False, ""), 0)


def test_a_probe_timeout_is_a_timeout_and_a_port_conflict_an_error() -> None:
    probe = (
        Check("ready", True),
        Check("http GET /", False, "no complete response", timed_out=True),
    )
    verdict = classify(PORT_ZERO, Version("0.14.0"), "linux", observation(False, checks=probe))
    assert verdict.outcome == Outcome.TIMEOUT
    conflict = observation(False, port_conflict="port 127.0.0.1:8000 is already in use by pid 1")
    verdict = classify(PORT_ZERO, Version("0.14.0"), "linux", conflict)
    assert (verdict.outcome, verdict.expected) == (Outcome.ERROR, False)
    assert verdict.reason == "port 127.0.0.1:8000 is already in use by pid 1"


def test_observation_of_a_flaky_attempt_serialises() -> None:
    data = attempt(2, 1, Outcome.PASS, True).to_json()
    assert data["repetition"] == 2 and data["retry"] == 1 and data["outcome"] == Outcome.PASS
    assert data["output_tail"] == "pass"
