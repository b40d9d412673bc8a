"""Scheduling: costliest first, environments built once and beside running cells."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from packaging.version import Version

from harness.engine.executor import Executor
from harness.engine.progress import SilentProgress
from harness.engine.schedule import COSTS_FILE, CostModel, CostOrderedPool
from harness.envs.cache import EnvCache
from harness.envs.index_config import IndexConfig
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.errors import EnvironmentBuildError
from harness.plan.cells import Cell
from harness.plan.shards import run_cost
from harness.runner.observation import Check, Observation
from tests.unit.report_data import BUILTIN

PORT_ZERO = BUILTIN["port-zero-startup"]
TWO_WORKER = BUILTIN["two-worker-startup"]
PY = Interpreter(Path("/opt/py3.12/bin/python"), Version("3.12.1"))


def cell(scenario_id: str, version: str, runnable: bool = True) -> Cell:
    request = PythonRequest("3.12", PY if runnable else None, "" if runnable else "not found")
    return Cell(BUILTIN[scenario_id], Version(version), request, "linux")


# -- the cost model ------------------------------------------------------------------------


def test_unknown_scenarios_are_estimated_from_their_shape() -> None:
    costs = CostModel()
    port_zero, two_worker = (
        cell("port-zero-startup", "0.30.6"),
        cell("two-worker-startup", "0.30.6"),
    )
    assert costs.cell_cost(port_zero) == run_cost(port_zero)
    # Log expectations (two workers starting) make the two-worker cell the longer one.
    assert costs.cell_cost(two_worker) > costs.cell_cost(port_zero)


def test_learned_durations_win_and_calibrate_the_unknown() -> None:
    costs = CostModel()
    costs.learn([("port-zero-startup", 0.5), ("port-zero-startup", 0.7)])
    port_zero, two_worker = (
        cell("port-zero-startup", "0.30.6"),
        cell("two-worker-startup", "0.30.6"),
    )
    assert costs.cell_cost(port_zero) == 0.6
    costs.calibrate([port_zero, two_worker])
    # Not seen yet: its shape estimate, scaled as port-zero's estimate was.
    expected = run_cost(two_worker) * 0.6 / run_cost(port_zero)
    assert abs(costs.cell_cost(two_worker) - expected) < 1e-9


def test_learning_is_a_moving_average() -> None:
    costs = CostModel({"port-zero-startup": 1.0})
    costs.learn([("port-zero-startup", 3.0)])
    assert costs.scenarios["port-zero-startup"] == 2.0
    costs.learn([("two-worker-startup", 0.0)])  # not run (a skip): nothing learned
    assert "two-worker-startup" not in costs.scenarios


def test_the_model_survives_the_cache_and_a_damaged_file_is_ignored(tmp_path: Path) -> None:
    costs = CostModel()
    costs.learn([("port-zero-startup", 0.5), ("two-worker-startup", 1.25)])
    costs.save(tmp_path)
    assert CostModel.load(tmp_path).scenarios == {
        "port-zero-startup": 0.5,
        "two-worker-startup": 1.25,
    }
    for damaged in ("{not json", json.dumps({"format": 99, "scenarios": {}}), "[]"):
        (tmp_path / COSTS_FILE).write_text(damaged)
        assert CostModel.load(tmp_path).scenarios == {}
    assert CostModel.load(tmp_path / "missing").scenarios == {}


# -- the pool ---------------------------------------------------------------------------------


def test_the_pool_starts_the_costliest_queued_task_next() -> None:
    pool = CostOrderedPool(1, "test")
    started: list[str] = []
    gate = threading.Event()
    try:
        pool.submit(1.0, lambda: (gate.wait(5), started.append("first")))
        for name, cost in (("cheap", 1.0), ("dear", 5.0), ("middle", 3.0), ("dear too", 5.0)):
            pool.submit(cost, lambda name=name: started.append(name))
        gate.set()
    finally:
        pool.shutdown()
    # The first was already running; then by cost, equal costs in the order queued.
    assert started == ["first", "dear", "dear too", "middle", "cheap"]


# -- the executor: pipelined builds, one build per environment -------------------------------


class FakeBackend:
    """Builds "environments" instantly, failing for the versions it is told to."""

    name = "fake"

    def __init__(self, failing: Sequence[str] = ()) -> None:
        self.failing = set(failing)
        self.built: list[str] = []
        self._lock = threading.Lock()

    def python_path(self, env_dir: Path) -> Path:
        return env_dir / "bin" / "python"

    def python_version(self, env_dir: Path, interpreter: Interpreter) -> str:
        return str(interpreter.version)

    def create(self, env_dir: Path, interpreter: Interpreter, index: IndexConfig) -> None:
        (env_dir / "bin").mkdir(parents=True)
        (env_dir / "bin" / "python").touch()

    def install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        exclude_newer: str | None = None,
        constraints: Sequence[str] = (),
    ) -> None:
        with self._lock:
            self.built.append(requirements[0])
        if any(requirements[0].endswith(f"=={v}") for v in self.failing):
            raise EnvironmentBuildError("uv pip install failed: no such release", "tail")


class FakeRunner:
    """Records the order cells start in; every server passes."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self._lock = threading.Lock()

    def run(
        self,
        scenario: object,
        env_python: Path,
        launcher: object = None,
        axes: object = None,
        site: object = None,
    ) -> Observation:
        with self._lock:
            self.started.append(f"{getattr(scenario, 'id', '?')} {env_python.parent.parent.name}")
        return Observation(
            checks=(Check("ready", True), Check("exit", True)),
            ready=True,
            ready_timed_out=False,
            stop_timed_out=False,
            exit_code=0,
            duration_s=0.1,
            output="",
        )


def executor(tmp_path: Path, backend: FakeBackend, jobs: int = 2) -> tuple[Executor, FakeRunner]:
    runner = FakeRunner()
    costs = CostModel({"port-zero-startup": 0.5, "two-worker-startup": 1.5})
    cache = EnvCache(tmp_path, backend, IndexConfig())  # type: ignore[arg-type]
    return (
        Executor(cache, runner, jobs, SilentProgress(), threading.Event(), cost=costs.cell_cost),  # type: ignore[arg-type]
        runner,
    )


def test_each_environment_is_built_once_and_its_cells_report_it_once(tmp_path: Path) -> None:
    backend = FakeBackend()
    run, _ = executor(tmp_path, backend, jobs=3)
    cells = [
        cell(s, v)
        for v in ("0.29.0", "0.30.6")
        for s in ("port-zero-startup", "two-worker-startup")
    ]
    report = run.execute(cells)
    assert report.complete
    assert sorted(backend.built) == ["uvicorn==0.29.0", "uvicorn==0.30.6"]
    assert [r.outcome for r in report.results] == ["pass"] * 4
    # Results keep the plan's order, and each build is counted on one cell only.
    assert [(r.scenario, r.version) for r in report.results] == [
        (c.scenario.id, str(c.version)) for c in cells
    ]
    assert sum(r.env_reused is False for r in report.results) == 2
    again = run.execute(cells)
    assert all(r.env_reused for r in again.results)
    assert len(backend.built) == 2


def test_a_failed_build_is_tried_once_and_fails_every_cell_that_needs_it(tmp_path: Path) -> None:
    backend = FakeBackend(failing=["0.11.8"])
    run, runner = executor(tmp_path, backend)
    cells = [cell(s, "0.11.8") for s in ("port-zero-startup", "two-worker-startup")]
    cells += [cell("port-zero-startup", "0.30.6"), cell("two-worker-startup", "0.30.6", False)]
    report = run.execute(cells)
    outcomes = [(r.scenario, r.version, r.outcome) for r in report.results]
    assert outcomes == [
        ("port-zero-startup", "0.11.8", "install-error"),
        ("two-worker-startup", "0.11.8", "install-error"),
        ("port-zero-startup", "0.30.6", "pass"),
        ("two-worker-startup", "0.30.6", "skip"),
    ]
    assert backend.built.count("uvicorn==0.11.8") == 1
    assert "no such release" in report.results[0].reason
    assert len(runner.started) == 1


def test_with_environments_ready_the_costliest_cells_start_first(tmp_path: Path) -> None:
    backend = FakeBackend()
    versions = ("0.28.0", "0.29.0", "0.30.6")
    cells = [cell(s, v) for s in ("port-zero-startup", "two-worker-startup") for v in versions]
    run, _ = executor(tmp_path, backend, jobs=1)
    run.execute(cells)  # builds them
    run, runner = executor(tmp_path, backend, jobs=1)
    run.execute(cells)
    scenarios = [started.split()[0] for started in runner.started]
    assert scenarios == ["two-worker-startup"] * 3 + ["port-zero-startup"] * 3
