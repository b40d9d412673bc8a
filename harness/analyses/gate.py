"""The gate's verdict: may the team upgrade to the candidate release?

Unlike `run`, which asks "did each release behave as its claims say?", the
gate asks "does the candidate work for us?": every candidate cell that ran
must pass.  A known bug is still a bug for the team that upgrades, so a
`known-failure` fails the gate too, and the verdict names the bug and the
release that fixed it.  With a baseline (the version the team runs now), it
also lists what the upgrade changes, per (scenario, Python, platform, extras).

A candidate that cannot be installed together with the team's own pins is not
a scenario failure but a conflict (exit 2), shown with the resolver's words.

Everything here is a pure function of cell results, so it is tested alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

from harness.errors import (
    EXIT_CLEAN,
    EXIT_INTERRUPTED,
    EmptySelectionError,
)
from harness.judge.exit_codes import decide, network_failures
from harness.outcomes import Outcome
from harness.results import CellResult
from harness.scenario.model import Scenario

#: What uv and pip print when the requirements cannot be satisfied together.
RESOLVER_CONFLICT = re.compile(
    r"No solution found when resolving|requirements are unsatisfiable|ResolutionImpossible|"
    r"conflicting dependencies|The conflict is caused by",
    re.IGNORECASE,
)
#: Where the resolver's explanation starts in the installer's output.
_EXPLANATION_START = re.compile(
    r"No solution found when resolving|ERROR: Cannot install|The conflict is caused by|"
    r"ResolutionImpossible",
    re.IGNORECASE,
)
_EXPLANATION_LINES = 20

ComparisonKey = tuple[str, str, str, tuple[str, ...], str]


def comparison_key(cell: CellResult) -> ComparisonKey:
    """What a baseline cell and a candidate cell share: all but the version
    (the last part: the scenario's matrix axes and resolution, e.g. `http=h11`)."""
    axes = " ".join(f"{name}={value}" for name, value in sorted(cell.axes.items()))
    if cell.resolution != "latest":
        axes = f"{axes} resolution={cell.resolution}".strip()
    return (cell.scenario, cell.python, cell.platform, cell.extras, axes)


def describe_key(key: ComparisonKey) -> str:
    scenario, python, platform, extras, axes = key
    text = f"{scenario} py{python} {platform}"
    text = f"{text} [{','.join(extras)}]" if extras else text
    return f"{text} {axes}" if axes else text


def says_conflict(installer_output: str) -> bool:
    """True when an installer's output says the requirements cannot be resolved together."""
    return bool(RESOLVER_CONFLICT.search(installer_output))


def is_conflict(cell: CellResult) -> bool:
    return cell.outcome == Outcome.INSTALL_ERROR and says_conflict(
        cell.reason + "\n" + cell.output_tail
    )


def resolver_explanation(cell: CellResult) -> str:
    """The resolver's own words, from the installer output kept with the cell."""
    lines = cell.output_tail.splitlines()
    start = next((i for i, line in enumerate(lines) if _EXPLANATION_START.search(line)), None)
    if start is None:
        return cell.reason
    chosen = [line.rstrip() for line in lines[start : start + _EXPLANATION_LINES]]
    return "\n".join(line for line in chosen if line.strip()) or cell.reason


def fails(cell: CellResult) -> bool:
    return cell.outcome not in (Outcome.PASS, Outcome.SKIP)


def _same_version(cell: CellResult, version: str) -> bool:
    try:
        return Version(cell.version) == Version(version)
    except InvalidVersion:
        return cell.version == version


def explain_failure(cell: CellResult, scenarios: Mapping[str, Scenario]) -> str:
    """One line on why a candidate cell fails the gate."""
    if cell.outcome == Outcome.KNOWN_FAILURE and cell.signature:
        scenario = scenarios.get(cell.scenario)
        signature = scenario.signature(cell.signature) if scenario else None
        version = cell.parsed_version
        ranges = signature.claim.ranges if signature else ()
        covering = next((r for r in ranges if r.covers(version)), None)
        if covering is not None and covering.fixed_in is not None:
            return f"known bug {cell.signature}, fixed in {covering.fixed_in}"
        fixed = [r.fixed_in for r in ranges if r.fixed_in is not None and r.fixed_in <= version]
        if covering is None and fixed:
            return f"known bug {cell.signature}, back although claimed fixed in {max(fixed)}"
        return f"known bug {cell.signature}, no fixed release known"
    if cell.outcome == Outcome.NEW_FAILURE:
        return f"new failure: {cell.fingerprint or cell.reason}"
    if cell.outcome == Outcome.TIMEOUT:
        return f"timeout: {cell.reason}"
    if cell.outcome == Outcome.INSTALL_ERROR:
        return f"cannot be installed: {cell.reason}"
    if cell.outcome == Outcome.FLAKY:
        return f"flaky (passes only sometimes): {cell.reason}"
    return f"{cell.outcome}: {cell.reason}"


@dataclass(frozen=True)
class Failing:
    cell: CellResult
    explanation: str


@dataclass(frozen=True)
class Change:
    key: ComparisonKey
    baseline: CellResult | None
    candidate: CellResult


@dataclass
class GateVerdict:
    package: str
    candidate: str
    baseline: str | None
    exit_code: int
    checked: int
    failing: list[Failing] = field(default_factory=list)
    conflicts: list[CellResult] = field(default_factory=list)
    network: list[CellResult] = field(default_factory=list)
    #: Cells the harness could not judge (`error`: e.g. a fixed port already taken).
    errors: list[CellResult] = field(default_factory=list)
    newly_failing: list[Change] = field(default_factory=list)
    newly_passing: list[Change] = field(default_factory=list)
    still_failing: list[Change] = field(default_factory=list)
    unmatched: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_CLEAN

    def headline(self) -> str:
        step = f"{self.baseline} -> {self.candidate}" if self.baseline else self.candidate
        if self.exit_code == EXIT_CLEAN:
            return f"gate PASSED: {self.package} {step}: all {self.checked} cell(s) pass"
        if self.conflicts:
            envs = len({(c.python, c.platform, c.extras) for c in self.conflicts})
            return (
                f"gate ERROR: {self.package}=={self.candidate} conflicts with your pins "
                f"({envs} environment(s))"
            )
        if self.network:
            return f"gate ERROR: {len(self.network)} environment(s) failed for network reasons"
        if self.errors:
            return f"gate ERROR: the harness could not judge {len(self.errors)} cell(s)"
        if self.exit_code == EXIT_INTERRUPTED:
            return "gate INTERRUPTED: the results are incomplete"
        return (
            f"gate FAILED: {self.package} {step}: {len(self.failing)} of {self.checked} "
            "cell(s) do not pass"
        )

    def to_notes(self) -> list[str]:
        """The verdict as lines for the results file's `notes`."""
        lines = [self.headline()]
        lines += [f"{describe_key(comparison_key(f.cell))}: {f.explanation}" for f in self.failing]
        for name, changes in self.change_lists():
            if changes:
                lines.append(f"{name}: " + ", ".join(describe_key(c.key) for c in changes))
        return lines + self.notes

    def change_lists(self) -> list[tuple[str, list[Change]]]:
        return [
            ("newly failing", self.newly_failing),
            ("newly passing", self.newly_passing),
            ("still failing", self.still_failing),
            ("failing, no baseline cell to compare", self.unmatched),
        ]


def judge_gate(
    cells: Sequence[CellResult],
    package: str,
    candidate: str,
    baseline: str | None,
    scenarios: Mapping[str, Scenario],
    complete: bool = True,
) -> GateVerdict:
    """The gate's verdict over a run holding candidate (and baseline) cells."""
    candidate_cells = [c for c in cells if _same_version(c, candidate)]
    baseline_cells = (
        [c for c in cells if _same_version(c, baseline)] if baseline is not None else []
    )
    ran = [c for c in candidate_cells if c.outcome != Outcome.SKIP]
    verdict = GateVerdict(package, candidate, baseline, EXIT_CLEAN, len(ran))
    if complete and not ran:
        reasons = sorted({c.reason for c in candidate_cells}) or ["no candidate cell planned"]
        raise EmptySelectionError(
            f"the gate ran nothing on {package} {candidate}: every cell was skipped "
            f"({'; '.join(reasons)})"
        )
    verdict.conflicts = [c for c in ran if is_conflict(c)]
    verdict.network = [c for c in network_failures(ran) if not is_conflict(c)]
    verdict.errors = [c for c in ran if c.outcome == Outcome.ERROR]
    infrastructure = {id(c) for c in (*verdict.conflicts, *verdict.network, *verdict.errors)}
    verdict.failing = [
        Failing(c, explain_failure(c, scenarios))
        for c in ran
        if fails(c) and id(c) not in infrastructure
    ]
    _compare(verdict, candidate_cells, baseline_cells, infrastructure)
    verdict.exit_code = decide(
        complete=complete,
        infrastructure=bool(verdict.conflicts or verdict.network or verdict.errors),
        regression=bool(verdict.failing),
    )
    return verdict


def _compare(
    verdict: GateVerdict,
    candidate_cells: Sequence[CellResult],
    baseline_cells: Sequence[CellResult],
    infrastructure: set[int],
) -> None:
    if verdict.baseline is None:
        return
    base_by_key = {comparison_key(c): c for c in baseline_cells}
    base_conflicts = [c for c in baseline_cells if is_conflict(c)]
    if base_conflicts:
        verdict.notes.append(
            f"the baseline {verdict.package}=={verdict.baseline} itself conflicts with your "
            f"pins ({len(base_conflicts)} environment(s)); is the file out of date?"
        )
    for cell in candidate_cells:
        if cell.outcome == Outcome.SKIP or id(cell) in infrastructure:
            continue
        key = comparison_key(cell)
        base = base_by_key.get(key)
        comparable = base is not None and base.outcome != Outcome.SKIP and not is_conflict(base)
        change = Change(key, base, cell)
        if not comparable:
            if fails(cell):
                verdict.unmatched.append(change)
            continue
        assert base is not None
        if fails(cell) and not fails(base):
            verdict.newly_failing.append(change)
        elif fails(cell):
            verdict.still_failing.append(change)
        elif fails(base):
            verdict.newly_passing.append(change)
