"""The observed-ranges table: where each known failure starts and stops, from results.

Built from results files (`run` or `bisect`): for every signature, the claim,
the verdict, and every bad range the harness observed (last good, first bad,
last bad, first good of each), with the Pythons and axis values that showed it
and the command that produced the observations.  When no older release passed, the
table says what the older releases did instead (install errors, other
failures), so "the bug predates what can be installed here" is shown, not
implied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import Version

from harness.errors import UsageError
from harness.judge.ranges import ObservedRange
from harness.outcomes import Outcome
from harness.reports.model import Report, ScenarioReport
from harness.results import CellResult

START = "<!-- observed-ranges:start -->"
END = "<!-- observed-ranges:end -->"


@dataclass(frozen=True)
class RangeRow:
    scenario: str
    signature: str
    claim: str
    verdict: str
    last_good_before: str | None
    first_bad: str | None
    last_bad: str | None
    first_good_after: str | None
    where: str
    below: str
    command: str
    #: Every observed bad range, oldest first.
    ranges: tuple[ObservedRange, ...] = ()

    def observed(self) -> str:
        """Every observed range: `a ✓ → **b … c** ✗ → d ✓`, joined by ` · `."""
        if not self.ranges and self.first_bad is None:
            return "not seen"
        ranges = self.ranges or (
            ObservedRange(
                self.first_bad or "", self.last_bad or "", self.last_good_before,
                self.first_good_after,
            ),
        )  # fmt: skip
        return " · ".join(
            f"{r.last_good_before or '…'} ✓ → **{r.first_bad} … {r.last_bad}** ✗ → "
            f"{r.first_good_after or '…'} ✓"
            for r in ranges
        )


def _where(cells: Iterable[CellResult], signature: str) -> str:
    """Pythons and variants of the cells where the signature matched."""
    rows = sorted(
        {(Version(c.python) if c.python[0].isdigit() else Version("0"), c.python, c.variant)
         for c in cells if signature in c.signatures}
    )  # fmt: skip
    labels = [f"py{python}" + (f" {variant}" if variant else "") for _, python, variant in rows]
    return "; ".join(dict.fromkeys(labels))


def _below(cells: Sequence[CellResult], first_bad: str | None) -> str:
    """What the releases older than the first bad one did, when none of them passed."""
    if first_bad is None:
        return ""
    older = [c for c in cells if c.parsed_version < Version(first_bad)]
    if not older:
        return "no older release was run"
    if any(c.outcome == Outcome.PASS for c in older):
        return ""
    outcomes: dict[str, list[Version]] = {}
    for cell in older:
        outcomes.setdefault(cell.outcome, []).append(cell.parsed_version)
    parts = [
        f"{outcome} {min(vs)}" + (f"…{max(vs)}" if max(vs) != min(vs) else "")
        for outcome, vs in sorted(outcomes.items())
    ]
    return "older releases: " + ", ".join(parts)


def range_rows(report: Report) -> list[RangeRow]:
    """One row per (scenario, signature), from claims judged over every observation.

    `report` is the merge of all the results files (see `harness.reports`), so a
    bisect of one range and a run over another add up instead of replacing
    each other.
    """
    command_of = {source.label: " ".join(source.command) for source in report.sources}
    rows = []
    for scenario in report.scenarios:
        own = _observations(scenario)
        for claim in scenario.claims:
            rows.append(
                RangeRow(
                    scenario=scenario.id,
                    signature=claim.signature,
                    claim=claim.claim,
                    verdict=claim.verdict,
                    last_good_before=claim.last_good_before,
                    first_bad=claim.first_bad,
                    last_bad=claim.last_bad,
                    first_good_after=claim.first_good_after,
                    where=_where(own, claim.signature),
                    below=_below(own, claim.first_bad),
                    command="\n".join(sorted(_commands(scenario, command_of))),
                    ranges=claim.ranges,
                )
            )
    return sorted(rows, key=lambda row: (row.scenario, row.signature))


def _observations(scenario: ScenarioReport) -> list[CellResult]:
    return [o.cell for merged in scenario.cells for o in merged.observations]


def _commands(scenario: ScenarioReport, command_of: dict[str, str]) -> set[str]:
    """The commands of the results files that observed this scenario."""
    return {
        command_of.get(o.source, "")
        for merged in scenario.cells
        for o in merged.observations
        if command_of.get(o.source)
    }


#: Options that do not change what is observed, left out of the commands shown.
_LOCAL_OPTIONS = frozenset({"--cache-dir", "--json", "--jobs", "-j", "--html", "--junit",
                            "--markdown"})  # fmt: skip


def shown_command(command: str) -> str:
    """The command without machine-local options (cache, output files, parallelism)."""
    words = command.split(" ")
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in _LOCAL_OPTIONS:
            skip = True
            continue
        if word.split("=", 1)[0] in _LOCAL_OPTIONS:
            continue
        kept.append(word)
    return " ".join(kept)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(rows: Sequence[RangeRow], regenerate: str) -> str:
    lines = [
        "Generated by the harness from its own observations; do not edit by hand.",
        f"Regenerate with: `{regenerate}`",
        "",
        "| scenario | signature | upstream claim | observed (✓ pass, ✗ this failure) "
        "| verdict | seen on | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        parts = (
            row.scenario, f"`{row.signature}`", row.claim, row.observed(),
            row.verdict, row.where, row.below,
        )  # fmt: skip
        lines.append("| " + " | ".join(_cell(part) for part in parts) + " |")
    commands = sorted(
        {shown_command(line) for row in rows for line in row.command.splitlines() if line}
    )
    if commands:
        lines += ["", "Observed with:", ""]
        lines += [f"    {command}" for command in commands]
    return "\n".join(lines) + "\n"


def replace_block(document: str, block: str, source: str) -> str:
    """Put `block` between the markers of `document` (which must have them once)."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if len(pattern.findall(document)) != 1:
        raise UsageError(f"{source}: needs exactly one {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{block}{END}", document)
