"""Outcomes, expectedness and fingerprints from hand-made observations."""

from __future__ import annotations

from packaging.version import Version

from harness.judge.classify import classify, fingerprint, last_exception, normalise
from harness.outcomes import Outcome
from harness.runner.observation import Check, Observation
from harness.scenario.loader import load_scenarios
from tests.conftest import FIXTURES, SCENARIOS

PORT_ZERO = load_scenarios([SCENARIOS])["port-zero-startup"]
CRASH = (FIXTURES / "linux" / "port-zero-startup-0.13.4-py3.8.txt").read_text()


def observation(ok: bool, output: str = "", **kwargs: object) -> Observation:
    checks = (Check("ready", ok, "detail"),)
    fields: dict[str, object] = {
        "checks": checks, "ready": ok, "ready_timed_out": False, "stop_timed_out": False,
        "exit_code": 0 if ok else 1, "duration_s": 0.1, "output": output,
    }  # fmt: skip
    fields.update(kwargs)
    return Observation(**fields)  # type: ignore[arg-type]


def test_pass() -> None:
    verdict = classify(PORT_ZERO, Version("0.14.0"), "linux", observation(True))
    assert (verdict.outcome, verdict.expected, verdict.signature) == (Outcome.PASS, True, None)


def test_known_failure_inside_the_claim_is_expected() -> None:
    verdict = classify(PORT_ZERO, Version("0.13.4"), "linux", observation(False, CRASH))
    assert verdict.outcome == Outcome.KNOWN_FAILURE
    assert verdict.signature == "port0-getpeername-enotconn"
    assert verdict.expected


def test_known_failure_at_or_after_the_fix_is_a_regression() -> None:
    verdict = classify(PORT_ZERO, Version("0.15.0"), "linux", observation(False, CRASH))
    assert verdict.outcome == Outcome.KNOWN_FAILURE and not verdict.expected
    assert verdict.reason.startswith("regression")


def test_signature_for_another_platform_does_not_count() -> None:
    verdict = classify(PORT_ZERO, Version("0.13.4"), "windows", observation(False, CRASH))
    assert verdict.outcome == Outcome.NEW_FAILURE and not verdict.expected


def test_new_failure_and_timeout() -> None:
    boom = 'Traceback (most recent call last):\n  File "/x/y.py", line 3\nValueError: bad 1234\n'
    verdict = classify(PORT_ZERO, Version("0.14.0"), "linux", observation(False, boom))
    assert verdict.outcome == Outcome.NEW_FAILURE and not verdict.expected
    assert verdict.fingerprint == "ValueError: bad <n>"
    hung = observation(False, "", ready_timed_out=True)
    assert classify(PORT_ZERO, Version("0.14.0"), "linux", hung).outcome == Outcome.TIMEOUT


def test_fingerprint_is_stable_across_machines() -> None:
    head = "Traceback (most recent call last):\nOSError: [Errno 98] bind on "
    a = head + "127.0.0.1:8123 failed pid 4242"
    b = head + "10.1.2.3:9000 failed pid 77"
    assert fingerprint(observation(False, a)) == fingerprint(observation(False, b))
    assert normalise("/home/u/venv/lib/site.py at 0x7f00aa 12:03:58") == "<path> at <hex> <time>"


def test_last_exception_of_the_crash_fixture() -> None:
    assert last_exception(CRASH) == "OSError: [Errno 107] Transport endpoint is not connected"


def test_fingerprint_without_traceback_uses_the_failed_check() -> None:
    obs = observation(False, "", checks=(Check("http GET /", False, "status 500, wanted 200"),))
    assert fingerprint(obs) == "http GET /: status <n>, wanted <n>"


def test_a_cell_the_harness_stopped_itself_is_an_error_naming_why() -> None:
    """The server listened beyond loopback, or a pattern ran out of time."""
    why = "the server listened beyond loopback on 0.0.0.0:8000; the harness stopped it at once"
    verdict = classify(
        PORT_ZERO, Version("0.13.4"), "linux", observation(False, CRASH, aborted=why)
    )
    assert (verdict.outcome, verdict.expected, verdict.reason) == (Outcome.ERROR, False, why)


def test_a_cell_that_does_not_apply_is_a_skip_with_its_reason() -> None:
    reason = "not applicable: --reset-contextvars is not in uvicorn 0.44.0 --help"
    verdict = classify(PORT_ZERO, Version("0.44.0"), "linux",
                       observation(False, CRASH, not_applicable=reason))  # fmt: skip
    assert (verdict.outcome, verdict.expected, verdict.reason) == (Outcome.SKIP, True, reason)
    assert verdict.signature is None, "a cell that does not apply is no evidence"


def test_every_matching_signature_is_recorded_the_first_is_the_cells() -> None:
    both = CRASH + "\nFinished server process [1]\nAborted!\n"
    verdict = classify(PORT_ZERO, Version("0.29.0"), "linux", observation(False, both))
    assert verdict.signature == "port0-getpeername-enotconn"
    assert verdict.also == ("cli-ctrl-c-aborted",)
    assert verdict.expected, "the second signature's claim covers 0.29.0"
    assert "[also matched: cli-ctrl-c-aborted]" in verdict.reason
    outside_both = classify(PORT_ZERO, Version("0.31.0"), "linux", observation(False, both))
    assert not outside_both.expected and outside_both.reason.startswith("regression: ")


def test_a_signature_on_the_exit_status_alone() -> None:
    scenario = load_scenarios([SCENARIOS])["startup-failure-exit-code"]
    checks = (Check("startup-failure-reported", True, "seen 1x"),
              Check("exit", False, "exit code 0 1.20s after start (wanted 3)"))  # fmt: skip
    silent = observation(False, "ERROR:    Application startup failed. Exiting.\n",
                         checks=checks, exit_code=0)  # fmt: skip
    verdict = classify(scenario, Version("0.15.0"), "linux", silent)
    assert (verdict.outcome, verdict.signature) == (
        Outcome.KNOWN_FAILURE,
        "startup-failure-exits-zero",
    )
    three = observation(False, silent.output, checks=checks, exit_code=3)
    assert classify(scenario, Version("0.15.0"), "linux", three).outcome == Outcome.NEW_FAILURE
