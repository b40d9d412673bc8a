"""`python -m harness bisect SCENARIO`: where a failure starts and where it stops.

From a release known to be bad (`--bad`, by default the last release before
the claim's `fixed_in`), the search checks both ends of the range, then
halves the interval on each side of the start with every probe (both sides
at once, one probe per side per round) until it finds the last good and first
bad release below, and the last bad and first good release above.

What a probe means (one cell: the scenario on one release and Python):

* bad: the scenario's failure is there, i.e. a known failure whose signature is
  the one searched for (the scenario's first signature that can occur on this
  platform, or `--signature`); with `--any-failure`, any outcome but a pass;
* good: the failure is absent: a pass, or a *different* failure (a new failure,
  a timeout, another signature), which the output names as such, since it may
  hide the failure searched for;
* skip (git bisect's 125): the environment could not be built (install
  error); releases whose requires-python excludes the Python are left out of
  the range up front, without a build.

Probes are answered from the cell cache when the same scenario, release,
Python, backend and platform were observed before (`--fresh` to run them all);
only builds really performed are counted.  A binary search sees the edges
nearest the start only: the ends of the range, and every cached observation
in it, are checked against one bad range, and any disagreement is reported
(exit 1) instead of being hidden.  Exit codes: 0 edges found, 1 the claim is
contradicted or the outcome is not monotone, 2 infrastructure, 3 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version
from rich.console import Console
from rich.markup import escape

from harness.analyses.bisect import BisectResult, Mark, bisect, mark_of
from harness.analyses.bisect_setup import BisectProblem, BisectSetup
from harness.clock import utc_now
from harness.commands.common import (
    add_harness_settings,
    add_scenario_dirs,
    harness_settings,
    notifier,
    scenario_dirs,
)
from harness.engine.cellsource import CellSource
from harness.engine.executor import cell_context
from harness.engine.pipeline import Harness
from harness.engine.progress import SilentProgress
from harness.envs.index import Release
from harness.envs.interpreters import PythonRequest
from harness.errors import (
    EXIT_INTERRUPTED,
    EmptySelectionError,
    InterruptedRun,
    UsageError,
)
from harness.judge.claims import CONTRADICTED, ClaimVerdict, judge_signature
from harness.judge.exit_codes import decide, network_failures
from harness.plan.cells import Cell, cells_of, default_pythons, plan_cell
from harness.plan.versions import resolve_selector
from harness.reports.bisect import render, summary_json
from harness.results import CellResult, RunResults, write_results
from harness.scenario.loader import load_scenarios, select_scenarios
from harness.scenario.model import Scenario, Signature

NAME = "bisect"
HELP = "find the releases where a scenario's failure starts and stops"
EXAMPLES = ("python -m harness bisect port-zero-startup --python 3.8",)
DEFAULT_RESULTS = Path("reports") / "bisect.json"
ORIGIN = "bisect"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario id")
    add_scenario_dirs(parser)
    parser.add_argument(
        "--python",
        metavar="X.Y|PATH",
        help="interpreter (default: the oldest found, 3.8+, that the start release supports)",
    )
    parser.add_argument(
        "--versions",
        metavar="RANGE",
        help="releases to search, any version selector, e.g. '>=0.10' "
        "(default: every release; yanked and pre-releases only with --pre)",
    )
    parser.add_argument(
        "--bad",
        metavar="VERSION",
        help="a release known to show the failure (default: the last release before the "
        "claim's fixed_in, else its introduced_in)",
    )
    parser.add_argument(
        "--signature",
        action="append",
        default=[],
        metavar="ID",
        help="signature that counts as the failure (repeatable; default: the scenario's "
        "first signature that can occur on this platform)",
    )
    parser.add_argument(
        "--any-failure",
        action="store_true",
        help="count every outcome but a pass as the failure (install errors still skip)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="run every probe now; do not reuse the cell cache"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="PATH",
        help="results file: the probes and the edges (default: %(default)s)",
    )
    add_harness_settings(parser)


def _signatures(scenario: Scenario, wanted: list[str], platform: str) -> list[Signature]:
    """The signatures that count as the failure here; a usage error when none can."""
    if wanted:
        chosen = []
        for signature_id in wanted:
            signature = scenario.signature(signature_id)
            if signature is None:
                known = ", ".join(s.id for s in scenario.signatures) or "none"
                raise UsageError(
                    f"--signature {signature_id}: {scenario.id} has no such signature "
                    f"(it has: {known})"
                )
            if not signature.applies_to(platform):
                raise UsageError(
                    f"--signature {signature_id} occurs on {', '.join(sorted(signature.platforms))}"
                    f" only; this machine is {platform}: it cannot be observed here"
                )
            chosen.append(signature)
        return chosen
    # One bug at a time: the first signature that can occur here (the scenario's
    # own bug comes first in its file); others only when asked for.
    return [s for s in scenario.signatures if s.applies_to(platform)][:1]


def _default_start(signatures: list[Signature], versions: list[Release]) -> tuple[Release, str]:
    for signature in signatures:
        fixed, introduced = signature.claim.fixed_in, signature.claim.introduced_in
        if fixed is not None:
            before = [r for r in versions if r.version < fixed]
            if before:
                return before[-1], f"the last release before the claimed fix {fixed}"
        if introduced is not None:
            at = [r for r in versions if r.version >= introduced]
            if at:
                return at[0], f"the claimed introduction {introduced}"
    raise UsageError(
        "no start: the signatures claim no fixed_in or introduced_in inside the range; "
        "give a release that shows the failure with --bad VERSION"
    )


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise UsageError(f"--bad {text!r} is not a version") from None


def _python(
    harness: Harness, text: str | None, start_hint: Release | None, only: Sequence[str] = ()
) -> PythonRequest:
    """`only`: the scenario's `[matrix] python`, the candidates when none is given."""
    if text is not None:
        request = harness.finder.resolve(text)
        if request.interpreter is None:
            raise UsageError(f"--python {text}: {request.reason}")
        return request
    pythons = default_pythons(start_hint, harness.finder, only) if start_hint is not None else []
    pythons = [request for request in pythons if request.interpreter is not None]
    if not pythons:
        raise UsageError("no interpreter found for the start release: give one with --python")
    return pythons[0]


def setup(args: argparse.Namespace, harness: Harness) -> BisectSetup:
    """Resolve the scenario, failure, range, Python and start from the arguments."""
    scenario = select_scenarios(load_scenarios(scenario_dirs(args)), [args.scenario])[0]
    platform = harness.platform
    if not scenario.applies_to(platform):
        raise UsageError(
            f"{scenario.id} applies to {', '.join(sorted(scenario.platforms))} only, not {platform}"
        )
    signatures = _signatures(scenario, args.signature, platform)
    if not signatures and not args.any_failure:
        where = "; ".join(f"{s.id}: {', '.join(sorted(s.platforms))}" for s in scenario.signatures)
        raise UsageError(
            f"{scenario.id} has no signature that can occur on {platform} ({where or 'none'}); "
            "nothing to search for here (or use --any-failure with --bad)"
        )
    releases = harness.installable_releases(scenario.package)
    if args.versions:
        boundaries = scenario.claim_boundaries()
        chosen = set(
            resolve_selector(args.versions, releases, scenario.package, boundaries, args.pre)
        )
        releases = [r for r in releases if r.version in chosen]
    by_version = {r.version: r for r in releases}
    bad = _version(args.bad) if args.bad is not None else None
    if bad is not None and bad not in by_version:
        raise UsageError(f"--bad {args.bad}: not a release in the range searched")
    hint = by_version[bad] if bad is not None else None
    if hint is None and signatures:
        hint = _default_start(signatures, releases)[0]
    request = _python(harness, args.python, hint, scenario.matrix.pythons)
    assert request.interpreter is not None
    python = request.interpreter.version
    usable = [r for r in releases if r.supports_python(python)]
    excluded = [r for r in releases if not r.supports_python(python)]
    if not usable:
        raise EmptySelectionError(f"no release in the range can be installed on Python {python}")
    if bad is not None:
        start = by_version[bad]
        if start not in usable:
            raise UsageError(
                f"--bad {args.bad} requires Python {start.requires_python}, not {python}"
            )
        reason = "given with --bad"
    else:
        start, reason = _default_start(signatures, usable)
    return BisectSetup(
        scenario=scenario,
        signatures=signatures,
        any_failure=args.any_failure,
        python=request,
        platform=platform,
        releases=usable,
        excluded=excluded,
        start=usable.index(start),
        start_reason=reason,
        start_given=args.bad is not None,
    )


class _Probes:
    """The bisect oracle: marks for indices, by observing their cells.

    A release is one cell per variant of the scenario's matrix (axes, extras,
    resolution) in which the failure searched for can occur; it is bad when
    any of them is, good when one is good and none bad, skipped when all are.
    """

    def __init__(self, plan: BisectSetup, source: CellSource, console: Console) -> None:
        self.plan = plan
        self.source = source
        self.console = console
        self.results: dict[int, CellResult] = {}
        self.every: dict[int, list[CellResult]] = {}
        self.ids = {s.id for s in plan.signatures}

    def cells(self, index: int) -> list[Cell]:
        release = self.plan.releases[index]
        base = plan_cell(
            self.plan.scenario, release.version, release, self.plan.python, self.plan.platform
        )
        variants = [cell for cell in cells_of(base) if self._may_fail(cell)]
        return variants or [base]

    def _may_fail(self, cell: Cell) -> bool:
        if self.plan.any_failure or not self.plan.signatures:
            return True
        context = cell_context(cell)
        return any(signature.applies_in(context) for signature in self.plan.signatures)

    def mark(self, result: CellResult) -> Mark:
        return mark_of(result, self.ids, self.plan.any_failure)

    def combine(self, results: Sequence[CellResult]) -> tuple[Mark, CellResult]:
        """The release's mark, and the cell that shows it best."""
        marks = [self.mark(result) for result in results]
        for wanted in (Mark.BAD, Mark.GOOD, Mark.SKIP):
            if wanted in marks:
                return wanted, results[marks.index(wanted)]
        raise ValueError("a release without cells")

    def every_result(self) -> list[CellResult]:
        return [result for index in sorted(self.every) for result in self.every[index]]

    def __call__(self, batch: Sequence[int]) -> Mapping[int, Mark]:
        names = ", ".join(str(self.plan.releases[i].version) for i in batch)
        self.console.print(f"probing {names}", highlight=False)
        groups = {index: self.cells(index) for index in batch}
        answers = iter(self.source.observe([c for i in batch for c in groups[i]], ORIGIN))
        marks = {}
        for index in batch:
            self.every[index] = [next(answers) for _ in groups[index]]
            marks[index], result = self.combine(self.every[index])
            self.results[index] = result
            how = (
                f"cell cache {result.from_cell_cache}"
                if result.from_cell_cache
                else ("env reused" if result.env_reused else "built")
            )
            detail = result.signature or result.fingerprint or result.reason
            self.console.print(
                f"  {result.version:<10} {marks[index].value:<4}  {result.outcome}"
                f" ({escape((detail or '')[:80])}) {escape(f'[{how}]')}",
                highlight=False,
            )
        return marks


def main(args: argparse.Namespace, console: Console) -> int:
    harness = Harness(harness_settings(args), notifier(console))
    plan = setup(args, harness)
    source = CellSource(harness, SilentProgress(), reuse=not args.fresh)
    probes = _Probes(plan, source, console)
    started_at = utc_now()
    console.print(escape(plan.describe()), highlight=False)
    for note in harness.index.notes:
        console.print(f"index: {escape(note)}", highlight=False)
    free: set[int] = set()
    known: dict[int, Mark] = {}
    for index in range(len(plan.releases)):
        hits = [source.cached(cell) for cell in probes.cells(index)]
        if hits and all(hit is not None for hit in hits):
            free.add(index)
            known[index] = probes.combine([hit for hit in hits if hit is not None])[0]
    command = ["python", "-m", "harness", *sys.argv[1:]]
    try:
        result: BisectResult = bisect(len(plan.releases), plan.start, probes, free, known)
    except InterruptedRun:
        partial = probes.every_result()
        write_results(
            args.json,
            RunResults(cells=partial, complete=False, started_at=started_at,
                       finished_at=utc_now(), command=command,
                       notes=["interrupted: bisect did not finish"]),
        )  # fmt: skip
        console.print(f"[bold red]interrupted[/]; probes so far: {escape(str(args.json))}")
        return EXIT_INTERRUPTED
    cells = probes.every_result()
    signature = plan.signatures[0] if plan.signatures else None
    releases = [r.version for r in harness.installable_releases(plan.scenario.package)]
    claims = (
        [judge_signature(plan.scenario, signature, cells, releases)]
        if signature is not None and (signature.claim.fixed_in or signature.claim.introduced_in)
        else []
    )
    problem = render(console, plan, result, probes.results, known, claims, source.cost)
    results = RunResults(
        cells=cells,
        claims=[claim.to_json() for claim in claims],
        started_at=started_at,
        finished_at=utc_now(),
        command=command,
        bisect=summary_json(plan, result, probes.results, source.cost, problem),
    )
    write_results(args.json, results)
    console.print(f"results: {escape(str(args.json))}", highlight=False)
    return _exit_code(plan, problem, claims, cells)


def _exit_code(
    plan: BisectSetup,
    problem: BisectProblem | None,
    claims: Sequence[ClaimVerdict],
    cells: list[CellResult],
) -> int:
    if problem is not None and not network_failures(cells):
        return problem.exit_code
    return decide(
        infrastructure=bool(network_failures(cells)),
        regression=any(claim.verdict == CONTRADICTED for claim in claims),
    )
