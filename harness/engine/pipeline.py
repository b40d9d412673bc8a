"""The engine every command drives: settings, then plan cells and execute them.

`run`, and the commands built on it (bisect, gate, ...), differ only in which
cells they plan and how they present the outcome; the machinery is here.
The common tail (judge → results → write → show) is `harness.commands.conclusion`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from harness.engine.cellcache import CellCache
from harness.engine.executor import ExecutionReport, Executor, env_spec_for
from harness.engine.progress import ProgressSink
from harness.engine.schedule import CostModel
from harness.envs.backends import Backend, make_backend
from harness.envs.cache import EnvCache
from harness.envs.index import Release, ReleaseIndex
from harness.envs.index_config import IndexConfig, discover_index_config
from harness.envs.interpreters import InterpreterFinder
from harness.plan.cells import Cell, PlatformPlan, plan_cells
from harness.procs.run_records import RunGuard
from harness.results import CellResult
from harness.runner.cell import CellRunner
from harness.runner.ports import PortAllocator
from harness.scenario.model import Scenario
from harness.targets.registry import Target, make_targets

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


#: Where the engine says what it did on its own (recovered runs, a Wine session):
#: one plain line of text; commands print it.
Notify = Callable[[str], None]


class Harness:
    """One configured harness: it plans cells and executes them, nothing more.

    Judging, results and their presentation belong to the command that asked
    (see `harness.commands.conclusion`).
    """

    def __init__(self, settings: HarnessSettings, notify: Notify) -> None:
        self.settings = settings
        self.notify = notify
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
        self._env_cache: EnvCache | None = None
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

    @property
    def env_cache(self) -> EnvCache:
        """Environments of every target: the configured backend for the host's, and
        each emulated target's own (python-embed for windows-wine)."""
        if self._env_cache is None:
            backends = {t.platform: t.backend for t in self.targets if t.backend is not None}
            self._env_cache = EnvCache(
                self.cache_dir, self.backend, self.index_config, self.cancel, backends
            )
        return self._env_cache

    def execute(self, cells: Sequence[Cell], progress: ProgressSink) -> ExecutionReport:
        """Run the cells under a run guard (record + watchdog; see `harness.procs.run_records`),
        after cleaning up whatever killed runs left in the cache, and inside the
        sessions of the target platforms that run cells (a warm wineserver)."""
        env_cache = self.env_cache
        with RunGuard(self.cache_dir) as guard:
            for message in guard.recovered:
                self.notify(f"recovered: {message}")
            for name in env_cache.remove_half_built():
                self.notify(
                    f"recovered: removed the half-built environment {name} "
                    "(its build was interrupted); it will be rebuilt if needed"
                )
            costs = CostModel.load(self.cache_dir)
            costs.calibrate(cells)
            executor = Executor(
                env_cache,
                CellRunner(self._ports, self.cancel, guard.scratch),
                self.settings.jobs,
                progress,
                self.cancel,
                repeat=self.settings.repeat,
                launchers={target.platform: target.launcher for target in self.targets},
                cost=costs.cell_cost,
            )
            running = {cell.platform for cell in cells if cell.runnable}
            with contextlib.ExitStack() as sessions:
                for target in self.targets:
                    if target.platform in running:
                        sessions.enter_context(target.session(self.notify))
                report = executor.execute(cells)
        self.record(cells, report.results)
        costs.learn((result.scenario, result.duration_s) for result in report.results)
        costs.save(self.cache_dir)
        return report

    def record(self, cells: Sequence[Cell], results: Sequence[CellResult]) -> None:
        """Keep fresh observations in the cell cache (bisect and claims reuse them)."""
        by_key = {cell.key: cell for cell in cells if cell.runnable}
        try:
            for result in results:
                cell = by_key.get(result.key)
                if cell is not None:
                    spec = env_spec_for(cell, self.env_cache)
                    self.cell_cache.store(cell.scenario, spec, result)
        except OSError as exc:
            if not self._cache_warned:
                self._cache_warned = True
                self.notify(f"warning: cell cache not written: {exc}")

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
