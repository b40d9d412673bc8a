"""`python -m harness list`: the scenarios with their upstream links, claims,
what each signature matches on, and how many observations the cache holds."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from harness.commands.common import add_scenario_dirs, scenario_dirs
from harness.engine.cellcache import CellCache
from harness.engine.pipeline import default_cache_dir
from harness.errors import EXIT_CLEAN
from harness.scenario.applicability import Applicability
from harness.scenario.loader import load_scenarios
from harness.scenario.model import Scenario
from harness.textsafety import escape

NAME = "list"
HELP = "list the scenarios"
EXAMPLES = ("python -m harness list",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scenario_dirs(parser)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the cache whose cached observations are counted (default: $UVICORN_HARNESS_CACHE "
        "or the user cache folder)",
    )


def describe_matrix(scenario: Scenario) -> str:
    """`python 3.8|3.12; extras []|[standard]; http h11|httptools`."""
    matrix = scenario.matrix
    parts = []
    if matrix.pythons:
        parts.append(f"python {'|'.join(matrix.pythons)}")
    if matrix.extras:
        parts.append("extras " + "|".join(f"[{','.join(option)}]" for option in matrix.extras))
    elif scenario.extras:
        parts.append(f"extras [{','.join(scenario.extras)}]")
    if matrix.resolutions:
        parts.append(f"resolution {'|'.join(matrix.resolutions)}")
    parts += [f"{name} {'|'.join(values)}" for name, values in matrix.axes]
    return "; ".join(parts)


def main(args: argparse.Namespace, console: Console) -> int:
    """One block per scenario: readable at 80 columns and in a pipe."""
    scenarios = load_scenarios(scenario_dirs(args))
    cache = CellCache((args.cache_dir or default_cache_dir()).expanduser())
    console.print(f"[bold]{len(scenarios)} scenario(s)[/]; cache {escape(str(cache.root.parent))}")
    for scenario in scenarios.values():
        console.print(f"\n[bold cyan]{scenario.id}[/]  {escape(scenario.title)}")
        for label, link in (("issue", scenario.upstream.issue), ("fix", scenario.upstream.fix)):
            if link:
                console.print(f"  {label}: {escape(link)}", soft_wrap=True)
        for link in scenario.upstream.links:
            console.print(f"  see: {escape(link)}", soft_wrap=True)
        platforms = ", ".join(sorted(scenario.platforms))
        console.print(f"  platforms: {platforms}; package: {scenario.package}", highlight=False)
        axes = describe_matrix(scenario)
        if axes:
            console.print(f"  matrix: {escape(axes)}", highlight=False, soft_wrap=True)
        for target, why in sorted(scenario.unfaithful.items()):
            console.print(f"  unfaithful on {target}: {escape(why)}", highlight=False)
        console.print(f"  file: {escape(str(scenario.source))}", soft_wrap=True)
        applies = describe_applicability(scenario)
        if applies:
            console.print(f"  applies: {escape(applies)}", highlight=False, soft_wrap=True)
        for sig in scenario.signatures:
            where = ",".join(sorted(sig.platforms))
            scope = f"; only {sig.scope()}" if sig.scope() else ""
            console.print(
                f"  signature {sig.id} {escape(f'[{where}]')}: {sig.claim.describe()}"
                f"{escape(scope)}",
                highlight=False,
            )
            console.print(
                f"    matches: {escape('; '.join(sig.conditions()))}",
                highlight=False,
                soft_wrap=True,
            )
        console.print(f"  cached observations: {cache.count(scenario.id)}", highlight=False)
    return EXIT_CLEAN


def describe_applicability(scenario: Scenario) -> str:
    """`uvicorn>=0.21.0; variant reset=on: --help lists --reset-contextvars; check x: ...`."""
    rules = scenario.applicability
    parts = []
    for label, rule in (
        [("", rules.scenario)]
        + [
            (
                "variant "
                + " ".join(f"{k}={'|'.join(sorted(v))}" for k, v in r.when.items())
                + ": ",
                r.applies,
            )
            for r in rules.variants
        ]
        + [(f"check {name}: ", rule) for name, rule in rules.checks.items()]
    ):
        words = _conditions(scenario.package, rule)
        if words:
            parts.append(label + ", ".join(words))
    return "; ".join(parts)


def _conditions(package: str, rule: Applicability) -> list[str]:
    words = [f"{package}{rule.versions}"] if rule.versions else []
    words += [f"python{rule.python}"] if rule.python else []
    words += [f"{axis}={'|'.join(sorted(values))}" for axis, values in rule.when.items()]
    words += [f"--help lists {text}" for text in rule.help_lists]
    words += [f"the app answers {rule.probe.describe()} as expected"] if rule.probe else []
    return words
