"""Arguments shared by several commands."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from harness.commands.output_paths import check_cache_dir
from harness.engine.pipeline import HarnessSettings, Notify, default_jobs
from harness.errors import UsageError
from harness.plan.cells import Cell
from harness.plan.shards import ShardSpec
from harness.reports.outputs import ReportPaths
from harness.scenario.loader import BUILTIN_SCENARIOS_DIR

_EXTRA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def add_scenario_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="folder of scenario TOML files (repeatable; default: the built-in scenarios/)",
    )


def scenario_dirs(args: argparse.Namespace) -> list[Path]:
    return list(args.scenarios_dir) or [BUILTIN_SCENARIOS_DIR]


def add_harness_settings(parser: argparse.ArgumentParser) -> None:
    """--jobs, --cache-dir, --backend, --offline, --pre."""
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=default_jobs(),
        metavar="N",
        help="cells run in parallel (default: %(default)s)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="environments and index cache (default: $UVICORN_HARNESS_CACHE "
        "or the user cache folder)",
    )
    parser.add_argument(
        "--backend",
        choices=("uv", "virtualenv"),
        default="uv",
        help="how environments are built (default: uv)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use the cached release list only; never ask the index",
    )
    parser.add_argument("--pre", action="store_true", help="include pre-releases in ranges")


def notifier(console: Console) -> Notify:
    """The engine's own messages (recovered runs, a Wine session), printed as plain text."""
    return lambda text: console.print(text, highlight=False, markup=False)


def harness_settings(args: argparse.Namespace) -> HarnessSettings:
    settings = HarnessSettings(
        backend=args.backend, jobs=args.jobs, offline=args.offline, include_prereleases=args.pre
    )
    if args.cache_dir is not None:
        settings.cache_dir = args.cache_dir
    check_cache_dir(settings.cache_dir)
    return settings


def add_report_outputs(parser: argparse.ArgumentParser) -> None:
    """--html, --junit, --markdown (the same writers for `run` and `report`)."""
    parser.add_argument(
        "--html", type=Path, metavar="PATH", help="write the HTML compatibility table"
    )
    parser.add_argument(
        "--junit", type=Path, metavar="PATH", help="write JUnit XML (failures: unexpected cells)"
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set)",
    )


MATRIX_VIEWS = ("overview", "full")


def add_matrix(parser: argparse.ArgumentParser) -> None:
    """--matrix: the summary's view (merged release ranges, or every cell)."""
    parser.add_argument(
        "--matrix",
        choices=MATRIX_VIEWS,
        default="overview",
        help="the terminal summary: 'overview' (release ranges per scenario and Python, "
        "then the unexpected cells) or 'full' (every cell) (default: %(default)s)",
    )


def report_paths(args: argparse.Namespace) -> ReportPaths:
    return ReportPaths(html=args.html, junit=args.junit, markdown=args.markdown)


def add_extras(parser: argparse.ArgumentParser) -> None:
    """--extras: run every scenario with these package extras (a run-level override)."""
    parser.add_argument(
        "--extras",
        action="append",
        default=[],
        metavar="EXTRAS",
        help="install the package with these extras, e.g. 'standard' for uvicorn[standard] "
        "(repeatable: one matrix column per value; 'none' for the plain package; "
        "default: each scenario's own)",
    )


def extras_variants(values: Sequence[str]) -> list[tuple[str, ...] | None]:
    """`['standard', 'none']` -> `[('standard',), ()]`; nothing given -> `[None]`."""
    variants: list[tuple[str, ...] | None] = []
    for value in values:
        names = tuple(sorted({part.strip() for part in value.split(",") if part.strip()}))
        if names in (("none",), ()):
            names = ()
        bad = [name for name in names if not _EXTRA_RE.match(name)]
        if bad:
            raise UsageError(f"--extras {value!r}: {bad[0]!r} is not an extra's name")
        if names not in variants:
            variants.append(names)
    return variants or [None]


def with_extras(cells: Sequence[Cell], variants: Sequence[tuple[str, ...] | None]) -> list[Cell]:
    """One cell per planned cell and extras variant (None keeps the scenario's own)."""
    if list(variants) == [None]:
        return list(cells)
    # A scenario's own extras variants collapse into the ones asked for: once each.
    replaced = [replace(cell, extras=variant) for cell in cells for variant in variants]
    return list({cell.key: cell for cell in replaced}.values())


def _shard(text: str) -> ShardSpec:
    try:
        return ShardSpec.parse(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--shard {text!r}: ")) from None


def add_shard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="run only shard I of N (deterministic, balanced by estimated cost; "
        "see `plan --shards N`); merge the shards' results with `report`",
    )
