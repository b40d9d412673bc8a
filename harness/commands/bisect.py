"""`python -m harness bisect SCENARIO`: every range where a failure starts and stops.

It probes a few evenly spaced releases of the range (both ends, the start and
both sides of every claimed edge) before halving, then searches every
transition it found (good to bad, bad to good), one probe per transition per
round, so a history that is bad, good and bad again is reported as two
ranges on a cold cache as well as a warm one.  The start (`--bad`, by default
the last release before the claim's `fixed_in`) is probed with the rest.

What a probe means (one cell: the scenario on one release and Python):

* bad: the scenario's failure is there, i.e. a known failure that matched the
  signature searched for (the scenario's first signature that can occur on
  this platform, or `--signature`); with `--any-failure`, any outcome but a pass;
* good: the failure is absent: a pass, a release the scenario does not apply
  to, or a *different* failure (a new failure, a timeout, another signature),
  which the output names as such, since it may hide the failure searched for;
* skip (git bisect's 125): the environment could not be built (install
  error); releases whose requires-python excludes the Python are left out of
  the range up front, without a build, and a run of install failures (a
  band: old releases on a new Python) is crossed by galloping and narrowed
  with at most a few more failures.

Probes are answered from the cell cache when the same scenario, release,
Python, backend and platform were observed before (`--fresh` to run them all);
only builds really performed are counted, and printed against the bound
2*log2(n)+4 builds per edge found plus the coarse probes.  Between two probes
with the same mark a short interval of the other mark could still hide: the
output lists those stretches with their width.  Exit codes: 0 ranges found,
1 the claim is contradicted (or its start does not show the failure),
2 infrastructure, 3 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version
from rich.console import Console

from harness.analyses.bisect import BisectResult, bisect
from harness.analyses.bisect_setup import BisectProblem, BisectSetup
from harness.clock import utc_now
from harness.commands.bisect_probes import Probes
from harness.commands.common import (
    add_harness_settings,
    add_scenario_dirs,
    harness_settings,
    notifier,
    scenario_dirs,
)
from harness.commands.output_paths import check_command_outputs, save_results
from harness.engine.cellsource import CellSource
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
from harness.plan.cells import default_pythons
from harness.plan.versions import resolve_selector
from harness.reports.bisect import render, summary_json
from harness.results import CellResult, RunResults, describe_scenario
from harness.scenario.loader import load_scenarios, select_scenarios
from harness.scenario.model import Scenario, Signature
from harness.textsafety import escape

NAME = "bisect"
HELP = "find every range of releases where a scenario's failure starts and stops"
EXAMPLES = ("python -m harness bisect port-zero-startup --python 3.8",)
DEFAULT_RESULTS = Path("reports") / "bisect.json"


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
        "--coarse",
        type=int,
        metavar="N",
        help="evenly spaced releases probed before halving (default: ceil(log2 n) + 1); more "
        "narrows what a short interval could hide between two probes",
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


def main(args: argparse.Namespace, console: Console) -> int:
    check_command_outputs(args)
    if args.coarse is not None and args.coarse < 2:
        raise UsageError("--coarse must be at least 2 (both ends of the range)")
    harness = Harness(harness_settings(args), notifier(console))
    plan = setup(args, harness)
    source = CellSource(harness, SilentProgress(), reuse=not args.fresh)
    probes = Probes(plan, source, console)
    started_at = utc_now()
    console.print(escape(plan.describe()), highlight=False)
    for note in harness.index.notes:
        console.print(f"index: {escape(note)}", highlight=False)
    free, known = probes.cached_marks()
    if known:
        console.print(f"{len(known)} release(s) already observed (cell cache)", highlight=False)
    command = ["python", "-m", "harness", *sys.argv[1:]]
    try:
        result: BisectResult = bisect(
            len(plan.releases), plan.start, probes, free, known, plan.anchors(), args.coarse,
            require_start_bad=plan.start_given,
        )  # fmt: skip
    except InterruptedRun:
        partial = probes.every_result()
        where, _ = save_results(
            args.json,
            RunResults(cells=partial, complete=False, started_at=started_at,
                       finished_at=utc_now(), command=command,
                       notes=["interrupted: bisect did not finish"]),
            harness.cache_dir,
        )  # fmt: skip
        console.print(f"[bold red]interrupted[/]; probes so far: {escape(str(where))}")
        return EXIT_INTERRUPTED
    cells = probes.every_result()
    signature = plan.signatures[0] if plan.signatures else None
    releases = [r.version for r in harness.installable_releases(plan.scenario.package)]
    claims = (
        [judge_signature(plan.scenario, signature, cells, releases)]
        if signature is not None and not signature.claim.empty
        else []
    )
    problem = render(console, plan, result, probes.results, claims, source.cost)
    results = RunResults(
        cells=cells,
        claims=[claim.to_json() for claim in claims],
        started_at=started_at,
        finished_at=utc_now(),
        command=command,
        releases={plan.scenario.package: [str(v) for v in releases]},
        scenarios={plan.scenario.id: describe_scenario(plan.scenario)},
        bisect=summary_json(plan, result, source.cost, problem),
    )
    where, failed = save_results(args.json, results, harness.cache_dir)
    console.print(f"results: {escape(str(where))}", highlight=False)
    if failed is not None:
        raise failed
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
