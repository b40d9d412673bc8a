"""Judge an observation: pass, known-failure, new-failure, timeout or error, and expected?

Outcomes are `harness.outcomes.Outcome` (docs/failure-model.md).  A cell is
*expected* when it agrees with the claims: a pass, a skip, or a known failure
inside its signature's claimed range.  A known failure outside that range is a
regression, and a new failure, a timeout (the server was not ready, a probe got
no complete response, or the server would not stop, within the limits), an
install error or an error (the cell could not run, e.g. its fixed port was
taken) is never expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import Version

from harness.outcomes import Outcome
from harness.runner.observation import Observation
from harness.scenario.model import CellContext, Scenario, Signature

#: An unfaithful cell's reason is "unfaithful here: WHY (observed on ...: OUTCOME)".
UNFAITHFUL_PREFIX = "unfaithful here: "
UNFAITHFUL_OBSERVED = " (observed on "

_EXCEPTION_LINE = re.compile(
    r"^(?P<type>(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure))"
    r"(?::\s*(?P<message>.*))?$"
)
_NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-][\d:]{4,5})?"),
     "<time>"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\"(?:[A-Za-z]:)?[\\/][^\"\n]*\""), '"<path>"'),
    (re.compile(r"'(?:[A-Za-z]:)?[\\/][^'\n]*'"), "'<path>'"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?"), "<path>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<addr>"),
    (re.compile(r"\[?(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\]?(?::\d+)?"), "<addr>"),
    (re.compile(r"\b\d{2,}\b"), "<n>"),
)  # fmt: skip


def normalise(text: str) -> str:
    """Remove what varies between runs: paths, pids, ports, addresses, times."""
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()


def last_exception(output: str) -> str | None:
    """The final `Type: message` line of the last traceback in the output."""
    lines = output.splitlines()
    seen_traceback = False
    found: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("Traceback (most recent call last)"):
            seen_traceback = True
            continue
        if seen_traceback and not line.startswith((" ", "\t")) and _EXCEPTION_LINE.match(stripped):
            found = stripped
    if found is None:
        for line in reversed(lines):
            stripped = line.strip()
            if _EXCEPTION_LINE.match(stripped) and not line.startswith((" ", "\t")):
                return stripped
    return found


def fingerprint(observation: Observation) -> str:
    """A stable identity for a new failure, comparable across runs and machines."""
    exception = last_exception(observation.output)
    if exception is not None:
        return normalise(exception)
    failed = observation.failed_checks
    if failed:
        first = failed[0]
        return normalise(f"{first.name}: {first.detail}")
    return "unknown"


def match_signature(
    scenario: Scenario,
    output: str,
    platform: str | CellContext,
    failed_checks: Iterable[str] = (),
    passed_checks: Iterable[str] = (),
) -> tuple[Signature | None, list[Signature]]:
    """The first applicable signature that matches, and matching ones that do not
    apply here (another platform, Python or axis value)."""
    context = platform if isinstance(platform, CellContext) else CellContext(platform)
    failed = tuple(failed_checks)
    passed = tuple(passed_checks)
    matched: Signature | None = None
    elsewhere: list[Signature] = []
    for signature in scenario.signatures:
        if not signature.matches(output, failed, passed):
            continue
        if signature.applies_in(context):
            matched = matched or signature
        else:
            elsewhere.append(signature)
    return matched, elsewhere


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    signature: str | None
    fingerprint: str | None
    expected: bool
    reason: str


def classify(
    scenario: Scenario,
    version: Version,
    platform: str | CellContext,
    observation: Observation,
) -> Verdict:
    """The verdict; on a platform the scenario declares unfaithful, `unfaithful` says why.

    `platform` may be a full `CellContext` (Python, axes) for signatures scoped by them.

    An unfaithful cell is expected (it is no regression) and carries no
    signature, so no claim can be confirmed or contradicted by it; its reason
    keeps what was observed.
    """
    verdict = _classify_observation(scenario, version, platform, observation)
    where = platform.platform if isinstance(platform, CellContext) else platform
    why = scenario.unfaithful_reason(where)
    if why is None or verdict.outcome == Outcome.ERROR:  # a taken port is the harness's problem
        return verdict
    seen = verdict.outcome + (f" ({verdict.signature})" if verdict.signature else "")
    reason = f"{UNFAITHFUL_PREFIX}{why}{UNFAITHFUL_OBSERVED}{where}: {seen})"
    return Verdict(Outcome.UNFAITHFUL, None, verdict.fingerprint, True, reason)


def _classify_observation(
    scenario: Scenario,
    version: Version,
    platform: str | CellContext,
    observation: Observation,
) -> Verdict:
    problem = observation.port_conflict or observation.aborted
    if problem is not None:
        return Verdict(Outcome.ERROR, None, None, False, problem)
    failed_names = [check.name for check in observation.failed_checks]
    passed_names = [check.name for check in observation.checks if check.ok]
    signature, _ = match_signature(
        scenario, observation.output, platform, failed_names, passed_names
    )
    if observation.all_ok:
        reason = "every expectation held"
        if signature is not None:
            reason += f" (signature {signature.id} matched the output anyway)"
        return Verdict(Outcome.PASS, None, None, True, reason)
    failed = observation.failed_checks
    summary = "; ".join(f"{check.name}: {check.detail}" for check in failed)
    if signature is not None:
        expected = signature.claim.covers(version)
        reason = f"{signature.id} ({signature.claim.describe()}): {summary}"
        if not expected:
            reason = f"regression: {reason}"
        return Verdict(Outcome.KNOWN_FAILURE, signature.id, None, expected, reason)
    if observation.ready_timed_out or observation.stop_timed_out or observation.probe_timed_out:
        return Verdict(Outcome.TIMEOUT, None, fingerprint(observation), False, summary)
    return Verdict(Outcome.NEW_FAILURE, None, fingerprint(observation), False, summary)
