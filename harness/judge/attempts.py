"""Several runs of one cell: `--repeat N` and bounded retries of flaky signatures.

With `--repeat N` every cell runs N times; when the outcomes differ the cell is
`flaky` and keeps every attempt.  Independently, a signature marked
`flaky = true` is a known intermittent failure: when it matches, that run is
retried (at most `FLAKY_RETRIES` times) and the last try counts.  Every attempt
is recorded either way, so nothing the harness saw is thrown away.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from harness.judge.classify import Verdict
from harness.outcomes import Outcome
from harness.results import output_tail
from harness.runner.observation import Observation
from harness.scenario.model import Scenario

#: Retries of one run after a flaky signature matched (so at most 3 tries).
FLAKY_RETRIES = 2
#: Output kept per attempt; the reported attempt keeps the full tail.
ATTEMPT_TAIL_CHARS = 2_000


@dataclass(frozen=True)
class Attempt:
    """One run of the server for a cell, with its own verdict."""

    repetition: int
    retry: int
    observation: Observation
    verdict: Verdict

    def to_json(self) -> dict[str, object]:
        return {
            "repetition": self.repetition,
            "retry": self.retry,
            "outcome": self.verdict.outcome,
            "expected": self.verdict.expected,
            "reason": self.verdict.reason,
            "signature": self.verdict.signature,
            "fingerprint": self.verdict.fingerprint,
            "duration_s": round(self.observation.duration_s, 3),
            "exit_code": self.observation.exit_code,
            "output_tail": output_tail(self.observation.output, ATTEMPT_TAIL_CHARS),
        }


def wants_retry(scenario: Scenario, verdict: Verdict, retries_so_far: int) -> bool:
    """True when a flaky signature matched and the retry budget is not spent."""
    if verdict.signature is None or retries_so_far >= FLAKY_RETRIES:
        return False
    signature = scenario.signature(verdict.signature)
    return signature is not None and signature.flaky


def _label(verdict: Verdict) -> str:
    detail = verdict.signature or verdict.fingerprint
    return f"{verdict.outcome} ({detail})" if detail else verdict.outcome


def combine(attempts: Sequence[Attempt]) -> tuple[Verdict, Attempt]:
    """The cell's verdict over all attempts, and the attempt whose evidence to show.

    Each repetition counts with its last try.  Agreeing repetitions give their
    common outcome; disagreeing ones give `flaky`, expected only when every
    repetition's outcome was expected on its own.
    """
    if not attempts:
        raise ValueError("a cell needs at least one attempt")
    finals: dict[int, Attempt] = {}
    for attempt in attempts:
        finals[attempt.repetition] = attempt
    last = attempts[-1]
    superseded = [a for a in attempts if finals[a.repetition] is not a]
    kinds = Counter(_label(a.verdict) for a in finals.values())
    if len(kinds) == 1:
        verdict = last.verdict
        if superseded:
            flaky = sorted({str(a.verdict.signature) for a in superseded})
            note = (
                f" (after {len(superseded)} retr{'y' if len(superseded) == 1 else 'ies'} "
                f"on flaky signature {', '.join(flaky)})"
            )
            verdict = dataclasses.replace(verdict, reason=verdict.reason + note)
        return verdict, last
    shown = next((a for a in finals.values() if a.verdict.outcome != Outcome.PASS), last)
    counts = ", ".join(f"{label} x{n}" for label, n in sorted(kinds.items()))
    expected = all(a.verdict.expected for a in finals.values())
    verdict = Verdict(
        Outcome.FLAKY,
        next((a.verdict.signature for a in finals.values() if a.verdict.signature), None),
        next((a.verdict.fingerprint for a in finals.values() if a.verdict.fingerprint), None),
        expected,
        f"outcomes differ across {len(finals)} runs: {counts}",
    )
    return verdict, shown
