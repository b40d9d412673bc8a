"""`python -m harness list`: the scenarios with their upstream links and claims."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape

from harness.commands.common import add_scenario_dirs, scenario_dirs
from harness.errors import EXIT_CLEAN
from harness.scenario.loader import load_scenarios
from harness.scenario.model import Scenario

NAME = "list"
HELP = "list the scenarios"
EXAMPLES = ("python -m harness list",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scenario_dirs(parser)


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
    console.print(f"[bold]{len(scenarios)} scenario(s)[/]")
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
        for sig in scenario.signatures:
            where = ",".join(sorted(sig.platforms))
            scope = f"; only {sig.scope()}" if sig.scope() else ""
            console.print(
                f"  signature {sig.id} {escape(f'[{where}]')}: {sig.claim.describe()}"
                f"{escape(scope)}",
                highlight=False,
            )
    return EXIT_CLEAN
