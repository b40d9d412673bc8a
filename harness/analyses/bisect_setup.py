"""What a bisect searches (scenario, Python, releases, start) and what stops it.

The search itself is `harness.analyses.bisect` (pure indices); this is the
setup around it and the judgement of a search that could not be trusted,
kept out of the wording in `harness.reports.bisect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harness.analyses.bisect import BisectResult, Mark
from harness.envs.index import Release
from harness.envs.interpreters import PythonRequest
from harness.judge.exit_codes import decide, network_failures
from harness.results import CellResult
from harness.scenario.model import Scenario, Signature


@dataclass(frozen=True)
class BisectSetup:
    """What is searched, where, and from which known-bad release."""

    scenario: Scenario
    signatures: list[Signature]
    any_failure: bool
    python: PythonRequest
    platform: str
    releases: list[Release]
    excluded: list[Release]
    start: int
    start_reason: str
    start_given: bool

    def version(self, index: int | None) -> str:
        return "?" if index is None else str(self.releases[index].version)

    def anchors(self) -> list[int]:
        """Both sides of every claimed edge inside the range: always probed."""
        versions = [r.version for r in self.releases]
        found: set[int] = set()
        for signature in self.signatures:
            for edge in signature.claim.edges():
                at = next((i for i, v in enumerate(versions) if v >= edge), None)
                if at is None:
                    continue
                found.add(at)
                if at > 0:
                    found.add(at - 1)
        return sorted(found)

    def span(self, first: int, last: int) -> str:
        """`0.5.0` or `0.5.0..0.9.1` for indices first..last."""
        if first == last:
            return self.version(first)
        return f"{self.version(first)}..{self.version(last)}"

    def failure(self) -> str:
        if self.any_failure:
            return "any outcome but a pass"
        parts = [f"{s.id} ({s.claim.describe()})" for s in self.signatures]
        return "signature " + ", ".join(parts)

    def describe(self) -> str:
        interpreter = self.python.interpreter
        python = str(interpreter.version) if interpreter else self.python.text
        text = (
            f"bisect {self.scenario.id} on {self.platform}, Python {python}: "
            f"failure = {self.failure()}; {len(self.releases)} release(s) "
            f"{self.version(0)} .. {self.version(len(self.releases) - 1)}"
        )
        if self.excluded:
            specs = sorted({str(r.requires_python) for r in self.excluded})
            text += (
                f" ({len(self.excluded)} more left out, no build: they require Python "
                f"{' / '.join(specs)})"
            )
        return text + f"; start {self.version(self.start)} ({self.start_reason})"


@dataclass(frozen=True)
class BisectProblem:
    """Why the edges cannot be trusted or were not searched, and whose fault that is."""

    message: str
    #: The user asked for something that cannot be searched (e.g. a --bad that passes).
    usage: bool = False
    #: The harness could not test the start (e.g. the index is unreachable).
    infrastructure: bool = False

    @property
    def exit_code(self) -> int:
        """Otherwise the claim behind the search does not hold: a regression."""
        return decide(usage=self.usage, infrastructure=self.infrastructure, regression=True)


def find_problem(
    plan: BisectSetup, result: BisectResult, cells: Mapping[int, CellResult]
) -> BisectProblem | None:
    """What stops the search's answer from being trusted, or None.

    Several bad ranges are an answer, not a problem (the claim's verdict says
    whether upstream knew); a start that does not show the failure is one.
    """
    start = cells.get(plan.start)
    mark = result.start_mark
    name = plan.version(plan.start)
    if start is None or mark is None:
        return None
    if mark is Mark.SKIP:
        if not plan.start_given and not network_failures([start]):
            return None  # the claim's start cannot be built here; the ranges still stand
        return BisectProblem(
            f"cannot start: {name} could not be tested: {start.reason}",
            usage=not network_failures([start]),
            infrastructure=bool(network_failures([start])),
        )
    if mark is Mark.GOOD:
        seen = f"{start.outcome}" + (f": {start.fingerprint}" if start.fingerprint else "")
        if plan.start_given:
            return BisectProblem(
                f"--bad {name} does not show the failure ({seen}); nothing to search", usage=True
            )
        return BisectProblem(
            f"{name}, {plan.start_reason}, does not show the failure ({seen}): "
            "the claim does not hold here"
        )
    return None
