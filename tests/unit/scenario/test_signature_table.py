"""Signatures on exit status, check details, timeouts and elapsed time, and claims
with several ranges: parsing, matching, and the errors."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.signatures import CellEvidence, CheckEvidence, Claim, ClaimRange, Signature

WriteScenario = Callable[..., Path]

BASE = """
id = "sigs"
title = "signatures"

[server]
app = "reference:app"
command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]

[[expect.http]]
id = "probe"
path = "/"

[expect.exit]
signal = "none"
codes = [3]

"""


def load_signature(write_scenario: WriteScenario, body: str) -> Signature:
    scenario = load_scenario(write_scenario(BASE + "[[signature]]\nid = 'sig'\n" + body))
    return scenario.signatures[0]


def evidence(exit_code: int | None = 0, **checks: CheckEvidence) -> CellEvidence:
    return CellEvidence("some output", checks, exit_code)


def test_exit_code_alone(write_scenario: WriteScenario) -> None:
    sig = load_signature(write_scenario, "exit_code = 0\nfixed_in = '0.16.0'\n")
    assert sig.exit_codes == (0,)
    assert sig.matches(evidence(0)) and not sig.matches(evidence(3))
    assert not sig.matches(evidence(None)), "no exit code seen: no match"
    assert sig.conditions() == ["exit code 0"]
    several = load_signature(write_scenario, "exit_code = [0, 1]\nfixed_in = '1'\n")
    assert several.matches(evidence(1)) and not several.matches(evidence(2))


def test_killed_by_a_signal_with_a_pattern(write_scenario: WriteScenario) -> None:
    sig = load_signature(
        write_scenario, "exit_signal = 'SIGSEGV'\npattern = 'some'\nfixed_in = '1'\n"
    )
    assert sig.matches(evidence(-int(signal.SIGSEGV)))
    assert not sig.matches(evidence(int(signal.SIGSEGV))), "a code, not a signal"
    assert not sig.matches(CellEvidence("other", {}, -int(signal.SIGSEGV))), "both must hold"


def test_a_check_detail_a_timeout_and_elapsed_time(write_scenario: WriteScenario) -> None:
    body = (
        "check_detail = { exit = 'exit code 0 \\S+ after start' }\n"
        "timed_out = ['probe']\n"
        "min_elapsed_s = { probe = 4.5 }\n"
        "fixed_in = '1'\n"
    )
    sig = load_signature(write_scenario, body)
    exit_check = CheckEvidence(False, "exit code 0 1.2s after start (wanted 3)")
    slow = CheckEvidence(False, "no complete response within 5s", timed_out=True, elapsed_s=5.0)
    assert sig.matches(evidence(exit=exit_check, probe=slow))
    fast = CheckEvidence(False, "no complete response", timed_out=True, elapsed_s=1.0)
    assert not sig.matches(evidence(exit=exit_check, probe=fast)), "not long enough"
    not_timed = CheckEvidence(False, "status 500", elapsed_s=5.0)
    assert not sig.matches(evidence(exit=exit_check, probe=not_timed)), "failed, but answered"
    passed_exit = CheckEvidence(True, "exit code 0 1.2s after start")
    assert not sig.matches(evidence(exit=passed_exit, probe=slow)), "the check must have failed"
    assert "exit failed with /exit code 0 \\S+ after start/" in sig.conditions()
    assert "probe timed out" in sig.conditions() and "probe took >= 4.5s" in sig.conditions()


def test_several_claimed_ranges(write_scenario: WriteScenario) -> None:
    body = (
        "pattern = 'x'\n"
        "ranges = [{ fixed_in = '0.39.0' }, { introduced_in = '0.45.0', fixed_in = '0.50.0' },\n"
        "          { introduced_in = '0.52.0' }]\n"
    )
    claim = load_signature(write_scenario, body).claim
    assert claim.ranges == (
        ClaimRange(None, Version("0.39.0")),
        ClaimRange(Version("0.45.0"), Version("0.50.0")),
        ClaimRange(Version("0.52.0"), None),
    )
    assert claim.fixed_in == Version("0.39.0"), "the first range's fix, as before"
    covered = {v: claim.covers(Version(v)) for v in ("0.1", "0.39.0", "0.45.0", "0.50.0", "0.53")}
    assert covered == {"0.1": True, "0.39.0": False, "0.45.0": True, "0.50.0": False, "0.53": True}
    assert claim.describe() == (
        "fixed in 0.39.0; introduced again in 0.45.0, fixed in 0.50.0; introduced again in 0.52.0"
    )
    assert claim.edges() == tuple(Version(v) for v in ("0.39.0", "0.45.0", "0.50.0", "0.52.0"))
    assert Claim().empty and Claim().describe() == "no upstream claim"


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ("description = 'nothing to match'\n", "signature[0].pattern", "is required"),
        ("exit_code = 'zero'\n", "signature[0].exit_code", "must be an integer"),
        ("exit_code = 300\n", "signature[0].exit_code", "is not an exit status"),
        ("exit_signal = 'SIGNOPE'\n", "signature[0].exit_signal", "is not one of"),
        ("check_detail = { nope = 'x' }\n", "signature[0].check_detail", "no check is named"),
        ("check_detail = { probe = '(' }\n", "signature[0].check_detail.probe",
         "is not a valid regular expression"),
        ("timed_out = ['nope']\n", "signature[0].timed_out", "no check is named 'nope'"),
        ("min_elapsed_s = { probe = -1 }\n", "signature[0].min_elapsed_s.probe",
         "must be at least 0"),
        ("pattern = 'x'\nranges = [{ fixed_in = '1' }]\n", "signature[0].ranges",
         "fewer than two ranges"),
        ("pattern = 'x'\nfixed_in = '1'\nranges = [{ fixed_in = '1' }, { introduced_in = '2' }]\n",
         "signature[0].ranges", "not both"),
        ("pattern = 'x'\nranges = [{ fixed_in = '2' }, { introduced_in = '1' }]\n",
         "signature[0].ranges[1]", "before the previous range's fixed_in"),
        ("pattern = 'x'\nranges = [{ introduced_in = '1' }, { introduced_in = '2' }]\n",
         "signature[0].ranges[0]", "needs fixed_in"),
        ("pattern = 'x'\nranges = [{ fixed_in = '1' }, { fixed_in = '2' }]\n",
         "signature[0].ranges[1]", "needs introduced_in"),
        ("pattern = 'x'\nranges = [{ fixed_in = '1' }, { introduced_in = '3', fixed_in = '2' }]\n",
         "signature[0].ranges[1].introduced_in", "must be older than fixed_in"),
        ("pattern = 'x'\nranges = [{}, { introduced_in = '2' }]\n",
         "signature[0].ranges[0].fixed_in", "needs introduced_in, fixed_in or both"),
    ],
)  # fmt: skip
def test_bad_signatures_name_the_field(
    write_scenario: WriteScenario, body: str, field: str, problem: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_signature(write_scenario, body)
    message = str(caught.value)
    assert f": {field}: " in message and problem in message, message


def test_names_only_evidence() -> None:
    sig = Signature("s", re.compile("Boom"), frozenset({"linux"}), Claim(), checks=("a",),
                    passed_checks=("b",))  # fmt: skip
    assert sig.matches(CellEvidence.of("Boom", ("a",), ("b",)))
    assert not sig.matches(CellEvidence.of("Boom", ("a",))), "b must have passed"
