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
from dataclasses import dataclass

from packaging.version import Version

from harness.outcomes import Outcome
from harness.runner.observation import Observation
from harness.scenario.model import CellContext, Scenario, Signature
from harness.scenario.signatures import CellEvidence, CheckEvidence

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


def match_signatures(
    scenario: Scenario, evidence: CellEvidence, context: CellContext
) -> tuple[list[Signature], list[Signature]]:
    """Every applicable signature that matches, in the scenario's order, and the
    matching ones that do not apply here (another platform, Python or axis value)."""
    matched: list[Signature] = []
    elsewhere: list[Signature] = []
    for signature in scenario.signatures:
        if not signature.matches(evidence):
            continue
        (matched if signature.applies_in(context) else elsewhere).append(signature)
    return matched, elsewhere


def evidence_of(observation: Observation) -> CellEvidence:
    """What signatures are matched against (skipped checks are not evidence)."""
    checks = {
        check.name: CheckEvidence(check.ok, check.detail, check.timed_out, check.elapsed_s)
        for check in observation.checks
        if not check.skipped
    }
    return CellEvidence(observation.output, checks, observation.exit_code)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    signature: str | None
    fingerprint: str | None
    expected: bool
    reason: str
    #: Further signatures that matched too, in the scenario's order (the first
    #: matching one is `signature`).
    also: tuple[str, ...] = ()


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
    if observation.not_applicable is not None:
        return Verdict(Outcome.SKIP, None, None, True, observation.not_applicable)
    problem = observation.port_conflict or observation.aborted
    if problem is not None:
        return Verdict(Outcome.ERROR, None, None, False, problem)
    context = platform if isinstance(platform, CellContext) else CellContext(platform)
    matched, _ = match_signatures(scenario, evidence_of(observation), context)
    if observation.all_ok:
        reason = "every expectation held"
        if matched:
            reason += f" (signature {matched[0].id} matched the output anyway)"
        return Verdict(Outcome.PASS, None, None, True, reason)
    failed = observation.failed_checks
    summary = "; ".join(f"{check.name}: {check.detail}" for check in failed)
    if matched:
        first, *others = matched
        expected = any(signature.claim.covers(version) for signature in matched)
        reason = f"{first.id} ({first.claim.describe()}): {summary}"
        if others:
            reason += " [also matched: " + ", ".join(s.id for s in others) + "]"
        if not expected:
            reason = f"regression: {reason}"
        also = tuple(s.id for s in others)
        return Verdict(Outcome.KNOWN_FAILURE, first.id, None, expected, reason, also)
    if observation.ready_timed_out or observation.stop_timed_out or observation.probe_timed_out:
        return Verdict(Outcome.TIMEOUT, None, fingerprint(observation), False, summary)
    return Verdict(Outcome.NEW_FAILURE, None, fingerprint(observation), False, summary)
