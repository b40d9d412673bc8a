"""`python -m harness gate`: may we upgrade to the candidate release?

Runs the scenarios on the candidate (and on the baseline, the release the team
runs now) with the team's other pins as installer constraints, on the selected
Pythons, and exits 0 only when every candidate cell that ran passes; a known
bug fails the gate too, named with its fixed release.  Without `--baseline`
the baseline is the version pinned in `--requirements`, `--pyproject` or
`--lock`.

Exit codes: 0 the candidate passes; 1 a candidate cell fails; 2 the candidate
conflicts with your pins (the resolver's message is shown) or the index is
unreachable; 3 bad usage or nothing to run; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from packaging.version import Version
from rich.console import Console

from harness.analyses.gate import judge_gate, says_conflict
from harness.analyses.userdeps import (
    Pin,
    UserDeps,
    parse_pin,
    read_pyproject,
    read_requirements,
    read_uv_lock,
)
from harness.clock import utc_now
from harness.commands.common import (
    add_extras,
    add_harness_settings,
    add_report_outputs,
    add_scenario_dirs,
    add_shard,
    extras_variants,
    harness_settings,
    notifier,
    report_paths,
    scenario_dirs,
    with_extras,
)
from harness.commands.conclusion import Finished, build_results, conclude, describe_run
from harness.commands.output_paths import check_command_outputs
from harness.engine.executor import ExecutionReport, env_spec_for
from harness.engine.pipeline import Harness
from harness.envs.cache import EnvSpec
from harness.errors import EXIT_CLEAN, EXIT_INTERRUPTED, EnvironmentBuildError, UsageError
from harness.plan.cells import Cell
from harness.plan.shards import select_shard
from harness.procs.registry import REGISTRY, SpawnRefused
from harness.reports.gate import print_verdict, render_gate_markdown
from harness.reports.progress import make_progress
from harness.results import RunResults, write_results
from harness.scenario.loader import load_scenarios, select_scenarios
from harness.scenario.model import Scenario
from harness.textsafety import escape

NAME = "gate"
HELP = "gate an upgrade: run the scenarios on a candidate release with your pins"
EXAMPLES = ("python -m harness gate --candidate uvicorn==0.14.0 --requirements requirements.txt",)
DEFAULT_RESULTS = Path("reports") / "gate.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--candidate", required=True, metavar="PKG==X", help="the release to gate, uvicorn==0.14.0"
    )
    parser.add_argument(
        "--baseline",
        metavar="PKG==Y",
        help="the release you run now (default: the one pinned in your dependency file)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--requirements", type=Path, metavar="FILE", help="pip requirements file (-r/-c followed)"
    )
    source.add_argument(
        "--pyproject", type=Path, metavar="FILE", help="pyproject.toml: [project] dependencies"
    )
    source.add_argument("--lock", type=Path, metavar="FILE", help="uv.lock")
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME",
        help="with --pyproject: also read this optional-dependencies or dependency group",
    )
    add_scenario_dirs(parser)
    parser.add_argument(
        "--scenario", action="append", default=[], metavar="ID", help="scenario id (repeatable)"
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="X.Y|PATH",
        help="interpreter you deploy on (repeatable; default: the oldest and newest "
        "that the candidate supports)",
    )
    add_extras(parser)
    add_shard(parser)
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="PATH",
        help="results file (default: %(default)s)",
    )
    add_report_outputs(parser)
    add_harness_settings(parser)


def read_user_deps(args: argparse.Namespace) -> UserDeps | None:
    if args.group and args.pyproject is None:
        raise UsageError("--group needs --pyproject")
    if args.requirements is not None:
        return read_requirements(args.requirements)
    if args.pyproject is not None:
        return read_pyproject(args.pyproject, args.group)
    if args.lock is not None:
        return read_uv_lock(args.lock)
    return None


def gate_group(cell: Cell) -> Hashable:
    """A shard keeps a baseline cell and its candidate cell together, so its diff is whole."""
    return (cell.scenario.id, cell.python.label, cell.platform, cell.cell_extras)


def _default_extras(
    args: argparse.Namespace, candidate: Pin, current: Pin | None
) -> list[tuple[str, ...] | None]:
    """--extras, else the candidate's `[extras]`, else those of the pinned requirement."""
    if args.extras:
        return extras_variants(args.extras)
    if candidate.extras:
        return [candidate.extras]
    if current is not None and current.extras:
        return [current.extras]
    return [None]


def _python_texts(cells: Sequence[Cell]) -> list[str]:
    """The candidate's interpreters, to plan the baseline on exactly the same ones."""
    texts: dict[str, None] = {}
    for cell in cells:
        interpreter = cell.python.interpreter
        texts[str(interpreter.path) if interpreter else cell.python.text] = None
    return list(texts)


def plan_gate(
    harness: Harness,
    scenarios: Sequence[Scenario],
    candidate: Pin,
    baseline: Pin | None,
    pythons: Sequence[str],
    variants: Sequence[tuple[str, ...] | None],
    constraints: Sequence[str],
) -> list[Cell]:
    cells = harness.plan(scenarios, str(candidate.version), pythons)
    if baseline is not None:
        cells += harness.plan(scenarios, str(baseline.version), _python_texts(cells))
    return [replace(cell, constraints=tuple(constraints)) for cell in with_extras(cells, variants)]


def main(args: argparse.Namespace, console: Console) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    check_command_outputs(args, inputs=[args.requirements, args.pyproject, args.lock])
    candidate = parse_pin(args.candidate, "--candidate")
    deps = read_user_deps(args)
    current = deps.pinned(candidate.name) if deps is not None else None
    baseline = parse_pin(args.baseline, "--baseline") if args.baseline else current
    if baseline is not None and baseline.name != candidate.name:
        raise UsageError(f"--baseline {baseline} names another package than --candidate")
    if baseline is not None and baseline.version == candidate.version:
        raise UsageError(f"the candidate {candidate} is the release you run now: nothing to gate")
    every = load_scenarios(scenario_dirs(args))
    scenarios = [s for s in select_scenarios(every, args.scenario) if s.package == candidate.name]
    if not scenarios:
        raise UsageError(f"no selected scenario tests {candidate.name}")
    constraints = deps.constraints(candidate.name) if deps is not None else []
    harness = Harness(harness_settings(args), notifier(console))
    variants = _default_extras(args, candidate, current)
    cells = plan_gate(harness, scenarios, candidate, baseline, args.python, variants, constraints)
    _describe(console, deps, candidate, baseline, constraints)
    if args.shard is not None:
        cells = select_shard(cells, args.shard, gate_group)
        console.print(f"shard {args.shard}: {len(cells)} cell(s)", highlight=False)
        if not any(c.runnable and c.version == candidate.version for c in cells):
            console.print("this shard has no runnable candidate cell: nothing to gate here")
            write_results(args.json, _empty_results(harness, scenarios))
            return EXIT_CLEAN
    started_at = utc_now()
    conflicting = preflight(harness, cells, candidate.version, console)
    if conflicting:  # no verdict is possible on this set: show why, run nothing else
        cells = conflicting
    console.print(escape(describe_run(harness, cells, scenarios)), highlight=False)
    report = harness.execute(cells, make_progress(console))
    verdict = judge_gate(
        report.results,
        candidate.name,
        str(candidate.version),
        str(baseline.version) if baseline else None,
        {s.id: s for s in scenarios},
        report.complete,
    )
    command = ["python", "-m", "harness", *sys.argv[1:]]
    finished = Finished(harness, scenarios, report, started_at, command)
    conclusion = conclude(
        console,
        finished,
        args.json,
        report_paths(args),
        notes=verdict.to_notes(),
        markdown_preface=render_gate_markdown(verdict) + "\n",
    )
    print_verdict(console, verdict)
    conclusion.raise_problem(report.complete)
    return verdict.exit_code if report.complete else EXIT_INTERRUPTED


def preflight(
    harness: Harness, cells: Sequence[Cell], candidate: Version, console: Console
) -> list[Cell]:
    """Build the candidate's environments first; the cells whose build conflicts.

    The environments are needed anyway (the run reuses them), and a conflict
    with the user's pins makes running anything else pointless.
    """
    env_cache = harness.env_cache
    mine = [cell for cell in cells if cell.runnable and cell.version == candidate]
    specs = {spec.key(): spec for spec in (env_spec_for(c, env_cache) for c in mine)}
    console.print(
        f"installing {candidate} with your pins: {len(specs)} environment(s)", highlight=False
    )

    def conflicts(spec: EnvSpec) -> bool:
        try:
            env_cache.ensure(spec)
        except EnvironmentBuildError as exc:
            return says_conflict(f"{exc}\n{exc.output_tail}")
        except SpawnRefused:
            return False
        return False

    pool = ThreadPoolExecutor(max_workers=max(1, harness.settings.jobs))
    try:
        found = dict(zip(specs, pool.map(conflicts, specs.values()), strict=True))
    except KeyboardInterrupt:
        harness.cancel.set()
        REGISTRY.kill_everything()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [cell for cell in mine if found[env_spec_for(cell, env_cache).key()]]


def _describe(
    console: Console,
    deps: UserDeps | None,
    candidate: Pin,
    baseline: Pin | None,
    constraints: Sequence[str],
) -> None:
    if deps is not None:
        console.print(
            f"your dependencies: {escape(deps.source)}: {len(constraints)} other pin(s) "
            "installed as constraints",
            highlight=False,
            soft_wrap=True,
        )
        for note in deps.notes:
            console.print(f"  note: {escape(note)}", highlight=False, soft_wrap=True)
    where = "" if baseline is None or deps is None else f" (pinned in {deps.source})"
    against = f"baseline {baseline}{where}" if baseline else "no baseline"
    console.print(
        f"gate: candidate {escape(str(candidate))}, {escape(against)}",
        highlight=False,
        soft_wrap=True,
    )


def _empty_results(harness: Harness, scenarios: Sequence[Scenario]) -> RunResults:
    """A shard with nothing to gate still leaves a results file for the merge."""
    command = ["python", "-m", "harness", *sys.argv[1:]]
    return build_results(
        Finished(harness, scenarios, ExecutionReport([], True), utc_now(), command), []
    )
