"""Execute planned cells in parallel: build (or reuse) the env, run, classify.

Environments are built on their own threads while cells whose environment is
ready run, the costliest first (see `harness.engine.schedule`); an environment is
built once per run, and when it fails every cell that needs it reports the
same install error.  A cell may run its server several times (`--repeat`,
retries of flaky signatures; see `harness.judge.attempts`).  Ctrl-C sets a cancel flag, kills every
child session at once, and returns the results gathered so far marked
incomplete; the caller writes them and exits 130.
"""

from __future__ import annotations

import dataclasses
import functools
import queue
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.engine.progress import ProgressSink
from harness.engine.schedule import CostOrderedPool
from harness.envs.cache import BuiltEnv, EnvCache, EnvSpec
from harness.envs.nospace import out_of_space
from harness.errors import EnvironmentBuildError
from harness.judge.attempts import Attempt, combine, wants_retry
from harness.judge.classify import Verdict, classify
from harness.outcomes import Outcome
from harness.patterns import PatternTimeout
from harness.plan.cells import Cell
from harness.procs.registry import REGISTRY, SpawnRefused
from harness.results import CellResult, output_tail
from harness.runner.cell import CellRunner
from harness.runner.observation import Observation
from harness.scenario.applicability import CellSite
from harness.scenario.model import CellContext
from harness.targets.launchers import NATIVE, Launcher

#: What a task reports for one cell: its result, None (interrupted), or the
#: exception that escaped it (re-raised by the caller's thread).
_Outcome = CellResult | None | BaseException


@dataclass
class ExecutionReport:
    results: list[CellResult]
    complete: bool


def env_spec_for(cell: Cell, env_cache: EnvCache) -> EnvSpec:
    """The environment a cell runs in: the one definition the executor, the cell
    cache and the gate's preflight share.  A platform with a backend of its own
    (windows-wine) builds there; every other cell builds with the host's."""
    assert cell.python.interpreter is not None
    target = cell.platform if cell.platform in env_cache.target_backends else None
    return EnvSpec(
        package=cell.scenario.package,
        version=cell.version,
        interpreter=cell.python.interpreter,
        backend=env_cache.backend_for(target).name,
        extras=cell.cell_extras,
        pins=cell.scenario.pins,
        constraints=cell.constraints,
        target=target,
        exclude_newer=cell.exclude_newer(),
    )


def cell_context(cell: Cell) -> CellContext:
    """What a signature's applicability is judged on: platform, Python and axes."""
    interpreter = cell.python.interpreter
    axes = dict(cell.axes)
    axes["resolution"] = cell.resolution
    axes["extras"] = ",".join(cell.cell_extras)
    return CellContext(cell.platform, interpreter.version if interpreter else None, axes)


def cell_site(cell: Cell) -> CellSite:
    """What applicability is judged on: the release, the Python and the axes."""
    interpreter = cell.python.interpreter
    python = interpreter.version if interpreter else None
    return CellSite(cell.scenario.package, cell.version, python, dict(cell.axes))


def _base_fields(cell: Cell) -> dict[str, object]:
    interpreter = cell.python.interpreter
    return {
        "scenario": cell.scenario.id,
        "package": cell.scenario.package,
        "version": str(cell.version),
        "python": cell.python.label,
        "platform": cell.platform,
        "python_full": str(interpreter.version) if interpreter else None,
        "extras": cell.cell_extras,
        "axes": dict(cell.axes),
        "resolution": cell.resolution,
        "exclude_newer": cell.exclude_newer(),
    }


def skipped_result(cell: Cell) -> CellResult:
    return CellResult(
        **_base_fields(cell),  # type: ignore[arg-type]
        outcome=Outcome.SKIP,
        expected=True,
        reason=cell.skip_reason or "not applicable",
    )


class Executor:
    def __init__(
        self,
        env_cache: EnvCache,
        runner: CellRunner,
        jobs: int,
        progress: ProgressSink,
        cancel: threading.Event,
        repeat: int = 1,
        launchers: Mapping[str, Launcher] | None = None,
        cost: Callable[[Cell], float] | None = None,
    ) -> None:
        self.env_cache = env_cache
        self.runner = runner
        self.jobs = max(1, jobs)
        self.progress = progress
        self.cancel = cancel
        self.repeat = max(1, repeat)
        #: platform -> how its servers start; platforms not listed run on the host
        self.launchers = dict(launchers or {})
        self.cost: Callable[[Cell], float] = cost or (lambda cell: 1.0)

    def _attempts(self, cell: Cell, env: BuiltEnv) -> list[Attempt] | None:
        """Run the server `repeat` times, retrying flaky signatures; None if interrupted."""
        attempts: list[Attempt] = []
        launcher = self.launchers.get(cell.platform, NATIVE)
        for repetition in range(1, self.repeat + 1):
            retry = 0
            while True:
                if self.cancel.is_set():
                    return None
                observation = self.runner.run(
                    cell.scenario, env.python, launcher, dict(cell.axes), cell_site(cell)
                )
                if self.cancel.is_set():
                    return None
                verdict = _judge(cell, observation)
                attempts.append(Attempt(repetition, retry, observation, verdict))
                if not wants_retry(cell.scenario, verdict, retry):
                    break
                retry += 1
        return attempts

    def run_cell(self, cell: Cell, env: BuiltEnv | None = None) -> CellResult | None:
        """One cell end to end; None when interrupted before it produced a result.

        `env`: its environment, when the caller has it already (built or looked up).
        """
        if not cell.runnable:
            return skipped_result(cell)
        spec = env_spec_for(cell, self.env_cache)
        if self.cancel.is_set():
            return None
        if env is None:
            env = self.env_cache.lookup(spec)
        try:
            if env is None:
                self.progress.cell_phase(cell, "building environment")
                env = self.env_cache.ensure(spec)
        except SpawnRefused:
            return None
        except EnvironmentBuildError as exc:
            return None if self.cancel.is_set() else install_error(cell, spec, exc)
        if self.cancel.is_set():
            return None
        self.progress.cell_phase(cell, "running server")
        try:
            attempts = self._attempts(cell, env)
        except SpawnRefused:
            return None
        if attempts is None:
            return None
        verdict, shown = combine(attempts)
        observation = shown.observation
        fields = _base_fields(cell)
        if env.python_full:
            fields["python_full"] = env.python_full
        return CellResult(
            **fields,  # type: ignore[arg-type]
            outcome=verdict.outcome,
            expected=verdict.expected,
            reason=verdict.reason,
            signature=verdict.signature,
            fingerprint=verdict.fingerprint,
            also_matched=verdict.also,
            duration_s=sum(a.observation.duration_s for a in attempts),
            exit_code=observation.exit_code,
            output_tail=output_tail(observation.output),
            backend=spec.backend,
            env_reused=env.reused,
            env_build_s=env.build_s,
            resolved=env.resolved,
            checks=tuple(check.to_json() for check in observation.checks),
            address=observation.address,
            stop=observation.stop,
            attempts=tuple(a.to_json() for a in attempts) if len(attempts) > 1 else (),
        )

    def execute(self, cells: Sequence[Cell]) -> ExecutionReport:
        """Every cell's result, in the cells' order (complete unless interrupted)."""
        results: dict[int, CellResult] = {}
        finished: queue.SimpleQueue[tuple[int, _Outcome]] = queue.SimpleQueue()
        self.progress.start(len(cells))
        runs = CostOrderedPool(self.jobs, "cell")
        builds = CostOrderedPool(self.jobs, "build")
        complete = True
        restore: list[tuple[int, Any]] = []
        try:
            to_build: dict[str, tuple[EnvSpec, list[int]]] = {}
            ready: list[tuple[int, BuiltEnv]] = []
            for position, cell in enumerate(cells):
                if not cell.runnable:
                    finished.put((position, skipped_result(cell)))
                    continue
                spec = env_spec_for(cell, self.env_cache)
                env = self.env_cache.lookup(spec)
                if env is not None:
                    ready.append((position, env))
                else:
                    to_build.setdefault(spec.dirname(), (spec, []))[1].append(position)
            for spec, positions in to_build.values():
                cost = sum(self.cost(cells[position]) for position in positions)
                builds.submit(
                    cost, functools.partial(self._build, spec, positions, cells, runs, finished)
                )
            # Costliest first from the start: the first cells begin as they are queued.
            ready.sort(key=lambda item: -self.cost(cells[item[0]]))
            for position, env in ready:
                self._queue_run(runs, finished, position, cells[position], env)
            reported = 0
            while reported < len(cells):
                try:
                    position, outcome = finished.get(timeout=0.25)
                except queue.Empty:
                    continue
                reported += 1
                if isinstance(outcome, BaseException):
                    raise outcome
                if outcome is not None:
                    results[position] = outcome
                    self.progress.cell_finished(cells[position], outcome)
        except KeyboardInterrupt:
            complete = False
            self.cancel.set()
            restore = _ignore_further_interrupts()
            REGISTRY.kill_everything()
            builds.shutdown(cancel=True)
            runs.shutdown(cancel=True)
            while True:
                try:
                    position, outcome = finished.get_nowait()
                except queue.Empty:
                    break
                if isinstance(outcome, CellResult) and position not in results:
                    results[position] = outcome
        finally:
            builds.shutdown(cancel=True)
            runs.shutdown(cancel=True)
            self.progress.close()
            for signum, handler in restore:
                signal.signal(signum, handler)
        return ExecutionReport([results[key] for key in sorted(results)], complete)

    def _queue_run(
        self,
        runs: CostOrderedPool,
        finished: queue.SimpleQueue[tuple[int, _Outcome]],
        position: int,
        cell: Cell,
        env: BuiltEnv,
    ) -> None:
        def task() -> None:
            try:
                finished.put((position, self.run_cell(cell, env)))
            except BaseException as exc:  # re-raised by the waiting thread
                finished.put((position, exc))

        try:
            runs.submit(self.cost(cell), task)
        except RuntimeError:  # the pool is shut down: the run was interrupted
            finished.put((position, None))

    def _build(
        self,
        spec: EnvSpec,
        positions: Sequence[int],
        cells: Sequence[Cell],
        runs: CostOrderedPool,
        finished: queue.SimpleQueue[tuple[int, _Outcome]],
    ) -> None:
        """Build one environment, then queue the cells that need it (or fail them)."""
        env: BuiltEnv | None = None
        try:
            if not self.cancel.is_set():
                self.progress.cell_phase(cells[positions[0]], "building environment")
                env = self.env_cache.ensure(spec)
        except SpawnRefused:
            pass
        except EnvironmentBuildError as exc:
            for position in positions:
                failed = None if self.cancel.is_set() else install_error(cells[position], spec, exc)
                finished.put((position, failed))
            return
        except BaseException as exc:
            finished.put((positions[0], exc))
            for position in positions[1:]:
                finished.put((position, None))
            return
        for position in positions:
            if self.cancel.is_set() or env is None:
                finished.put((position, None))
            else:
                self._queue_run(runs, finished, position, cells[position], env)
                env = dataclasses.replace(env, reused=True)  # built once, by the first cell


def _judge(cell: Cell, observation: Observation) -> Verdict:
    """The cell's verdict; a signature's pattern that runs out of time makes it an error."""
    try:
        return classify(cell.scenario, cell.version, cell_context(cell), observation)
    except PatternTimeout as exc:
        return Verdict(Outcome.ERROR, None, None, False, str(exc))


def install_error(cell: Cell, spec: EnvSpec, exc: EnvironmentBuildError) -> CellResult:
    """The cell of an environment that could not be built: `install-error`, or
    `error` when the disk was full (the machine's fault, not the release's)."""
    full = out_of_space(f"{exc}\n{exc.output_tail}")
    return CellResult(
        **_base_fields(cell),  # type: ignore[arg-type]
        outcome=Outcome.ERROR if full else Outcome.INSTALL_ERROR,
        expected=False,
        reason=f"out of disk space: {exc}" if full else str(exc),
        output_tail=output_tail(exc.output_tail),
        backend=spec.backend,
    )


def _ignore_further_interrupts() -> list[tuple[int, Any]]:
    """The clean-up after Ctrl-C is bounded; a second Ctrl-C (or SIGTERM) must not
    cut it short and lose the partial results.  Returns the handlers to restore."""
    if threading.current_thread() is not threading.main_thread():
        return []
    previous: list[tuple[int, Any]] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous.append((int(signum), signal.getsignal(signum)))
        signal.signal(signum, signal.SIG_IGN)
    return previous
