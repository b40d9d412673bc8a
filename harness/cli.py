"""Command line: `python -m harness run|list`.

The CLI is a short pipeline over the stages (load → plan → execute → judge →
write → render); it owns exit codes and turns every `HarnessError` into one
line on stderr.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from rich.console import Console
from rich.markup import escape

from harness.backends import make_backend
from harness.claims import CONTRADICTED, judge_claims
from harness.classify import INSTALL_ERROR
from harness.envcache import EnvCache
from harness.errors import (
    EXIT_CLEAN,
    EXIT_INFRASTRUCTURE,
    EXIT_INTERRUPTED,
    EXIT_REGRESSION,
    EXIT_USAGE,
    EmptySelectionError,
    HarnessError,
    UsageError,
)
from harness.execute import Executor
from harness.index import ReleaseIndex
from harness.index_config import discover_index_config
from harness.interpreters import InterpreterFinder
from harness.matrix import render_matrix
from harness.network import PortAllocator
from harness.plan import plan_cells
from harness.platforms import current_platform
from harness.processes import REGISTRY
from harness.progress import make_progress
from harness.results import RunResults, write_results
from harness.runner import CellRunner
from harness.scenario_loader import BUILTIN_SCENARIOS_DIR, load_scenarios, select_scenarios

DEFAULT_RESULTS = Path("reports") / "results.json"
_NETWORK_HINTS = re.compile(
    r"Failed to fetch|failed to connect|Could not connect|Connection refused|"
    r"Temporary failure in name resolution|dns error|Network is unreachable|"
    r"Max retries exceeded|NewConnectionError|ConnectTimeout",
    re.IGNORECASE,
)


def default_cache_dir() -> Path:
    """`$UVICORN_HARNESS_CACHE`, else the platform's user cache folder."""
    if os.environ.get("UVICORN_HARNESS_CACHE"):
        return Path(os.environ["UVICORN_HARNESS_CACHE"]).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "uvicorn-harness"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "uvicorn-harness"


def default_jobs() -> int:
    """Cells wait on server start and shutdown, so overlap more than the core count."""
    return max(2, min(8, (os.cpu_count() or 2) * 2))


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; our contract says 3."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_selection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="folder of scenario TOML files (repeatable; default: the built-in scenarios/)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run scenarios against server releases")
    _add_selection_args(run)
    run.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="ID",
        help="scenario id (repeatable; default: all)",
    )
    run.add_argument(
        "--versions",
        metavar="SELECTOR",
        help="e.g. 0.13.3,0.13.4 | '>=0.12,<0.15' | latest | latest-3 | minors "
        "(default: each scenario's own set)",
    )
    run.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="X.Y|PATH",
        help="interpreter (repeatable; default: oldest and newest each release supports)",
    )
    run.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=default_jobs(),
        metavar="N",
        help="cells run in parallel (default: %(default)s)",
    )
    run.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="PATH",
        help="results file (default: %(default)s)",
    )
    run.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="environments and index cache (default: $UVICORN_HARNESS_CACHE or "
        "the user cache folder)",
    )
    run.add_argument(
        "--backend",
        choices=("uv", "virtualenv"),
        default="uv",
        help="how environments are built (default: uv)",
    )
    run.add_argument(
        "--offline",
        action="store_true",
        help="use the cached release list only; never ask the index",
    )
    run.add_argument("--pre", action="store_true", help="include pre-releases in ranges")
    run.set_defaults(handler=cmd_run)

    listing = commands.add_parser("list", help="list the scenarios")
    _add_selection_args(listing)
    listing.set_defaults(handler=cmd_list)
    return parser  # fmt: skip


def _scenario_dirs(args: argparse.Namespace) -> list[Path]:
    return list(args.scenarios_dir) or [BUILTIN_SCENARIOS_DIR]


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    """One block per scenario: readable at 80 columns and in a pipe."""
    scenarios = load_scenarios(_scenario_dirs(args))
    console.print(f"[bold]{len(scenarios)} scenario(s)[/]")
    for scenario in scenarios.values():
        console.print(f"\n[bold cyan]{scenario.id}[/]  {escape(scenario.title)}")
        for label, link in (("issue", scenario.upstream.issue), ("fix", scenario.upstream.fix)):
            if link:
                console.print(f"  {label}: {escape(link)}", soft_wrap=True)
        platforms = ", ".join(sorted(scenario.platforms))
        console.print(f"  platforms: {platforms}; package: {scenario.package}", highlight=False)
        console.print(f"  file: {escape(str(scenario.source))}", soft_wrap=True)
        for sig in scenario.signatures:
            where = ",".join(sorted(sig.platforms))
            console.print(f"  signature {sig.id} {escape(f'[{where}]')}: {sig.claim.describe()}")
    return EXIT_CLEAN


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    scenarios = select_scenarios(load_scenarios(_scenario_dirs(args)), args.scenario)
    cache_dir = (args.cache_dir or default_cache_dir()).expanduser().resolve()
    index_config = discover_index_config()
    index = ReleaseIndex(index_config, cache_dir, offline=args.offline)
    finder = InterpreterFinder()
    platform = current_platform()
    cells = plan_cells(scenarios, args.versions, args.python, platform, index, finder, args.pre)
    backend = make_backend(args.backend)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    console.print(
        f"[bold]{len(cells)} cell(s)[/] over {len(scenarios)} scenario(s) on {platform}; "
        f"backend {backend.name}, {args.jobs} job(s), cache {escape(str(cache_dir))}, "
        f"index {escape(index_config.describe())}",
        highlight=False,
    )
    cancel = threading.Event()
    scratch = Path(tempfile.gettempdir()) / "uvicorn-harness"
    executor = Executor(
        EnvCache(cache_dir, backend, index_config, cancel),
        CellRunner(PortAllocator(), cancel, scratch),
        args.jobs,
        make_progress(console),
        cancel,
    )
    report = executor.run(cells)
    releases = {s.package: [r.version for r in index.releases(s.package)] for s in scenarios}
    claims = judge_claims(scenarios, report.results, releases)
    results = RunResults(
        cells=report.results,
        claims=[claim.to_json() for claim in claims],
        complete=report.complete,
        started_at=started_at,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        command=["python", "-m", "harness", *sys.argv[1:]],
        notes=[] if report.complete else ["interrupted: results are incomplete"],
    )
    write_results(args.json, results)
    render_matrix(console, report.results, claims, report.complete)
    console.print(f"results: {escape(str(args.json))}", highlight=False)
    if not report.complete:
        return EXIT_INTERRUPTED
    if not any(cell.outcome != "skip" for cell in report.results):
        reasons = sorted({cell.reason for cell in report.results})
        raise EmptySelectionError(
            "nothing ran: every cell was skipped (" + "; ".join(reasons) + ")"
        )
    network = [
        c for c in report.results
        if c.outcome == INSTALL_ERROR and _NETWORK_HINTS.search(c.reason + c.output_tail)
    ]  # fmt: skip
    if network:
        console.print(
            f"[bold red]error:[/] {len(network)} environment(s) failed for network reasons "
            "(is the package index reachable?)"
        )
        return EXIT_INFRASTRUCTURE
    if any(not cell.expected for cell in report.results):
        return EXIT_REGRESSION
    if any(claim.verdict == CONTRADICTED for claim in claims):
        return EXIT_REGRESSION
    return EXIT_CLEAN


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    atexit.register(REGISTRY.kill_everything)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return int(args.handler(args, console))
    except HarnessError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}")
        return exc.exit_code
    except KeyboardInterrupt:
        REGISTRY.kill_everything()
        errors.print("[bold red]interrupted[/]")
        return EXIT_INTERRUPTED
