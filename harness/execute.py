"""Execute planned cells in parallel: build (or reuse) the env, run, classify.

A cell may run its server several times (`--repeat`, retries of flaky
signatures; see `harness.attempts`).  Ctrl-C sets a cancel flag, kills every
child session at once, and returns the results gathered so far marked
incomplete; the caller writes them and exits 130.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from harness.attempts import Attempt, combine, wants_retry
from harness.classify import INSTALL_ERROR, SKIP, classify
from harness.envcache import BuiltEnv, EnvCache, EnvSpec
from harness.errors import EnvironmentBuildError
from harness.launchers import NATIVE, Launcher
from harness.plan import Cell
from harness.processes import REGISTRY, SpawnRefused
from harness.progress import ProgressSink
from harness.results import CellResult, output_tail
from harness.runner import CellRunner
from harness.scenario import CellContext


@dataclass
class ExecutionReport:
    results: list[CellResult]
    complete: bool


def env_spec_for(cell: Cell, backend: str, target: str | None = None) -> EnvSpec:
    """The environment a cell needs; `target` names a non-host platform it is built for."""
    assert cell.python.interpreter is not None
    return EnvSpec(
        package=cell.scenario.package,
        version=cell.version,
        interpreter=cell.python.interpreter,
        backend=backend,
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
        outcome=SKIP,
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
    ) -> None:
        self.env_cache = env_cache
        self.runner = runner
        self.jobs = max(1, jobs)
        self.progress = progress
        self.cancel = cancel
        self.repeat = max(1, repeat)
        #: platform -> how its servers start; platforms not listed run on the host
        self.launchers = dict(launchers or {})

    def _attempts(self, cell: Cell, env: BuiltEnv) -> list[Attempt] | None:
        """Run the server `repeat` times, retrying flaky signatures; None if interrupted."""
        attempts: list[Attempt] = []
        launcher = self.launchers.get(cell.platform, NATIVE)
        for repetition in range(1, self.repeat + 1):
            retry = 0
            while True:
                if self.cancel.is_set():
                    return None
                observation = self.runner.run(cell.scenario, env.python, launcher, dict(cell.axes))
                if self.cancel.is_set():
                    return None
                verdict = classify(cell.scenario, cell.version, cell_context(cell), observation)
                attempts.append(Attempt(repetition, retry, observation, verdict))
                if not wants_retry(cell.scenario, verdict, retry):
                    break
                retry += 1
        return attempts

    def run_cell(self, cell: Cell) -> CellResult | None:
        """One cell end to end; None when interrupted before it produced a result."""
        if not cell.runnable:
            return skipped_result(cell)
        target = cell.platform if cell.platform in self.env_cache.target_backends else None
        spec = env_spec_for(cell, self.env_cache.backend_for(target).name, target)
        if self.cancel.is_set():
            return None
        env: BuiltEnv | None = self.env_cache.lookup(spec)
        try:
            if env is None:
                self.progress.cell_phase(cell, "building environment")
                env = self.env_cache.ensure(spec)
        except SpawnRefused:
            return None
        except EnvironmentBuildError as exc:
            if self.cancel.is_set():
                return None
            return CellResult(
                **_base_fields(cell),  # type: ignore[arg-type]
                outcome=INSTALL_ERROR,
                expected=False,
                reason=str(exc),
                output_tail=output_tail(exc.output_tail),
                backend=spec.backend,
            )
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

    def run(self, cells: Sequence[Cell]) -> ExecutionReport:
        results: dict[int, CellResult] = {}
        self.progress.start(len(cells))
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="cell")
        futures: dict[Future[CellResult | None], int] = {}
        complete = True
        restore: list[tuple[int, Any]] = []
        try:
            for position, cell in enumerate(cells):
                futures[pool.submit(self.run_cell, cell)] = position
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    position = futures[future]
                    if result is not None:
                        results[position] = result
                        self.progress.cell_finished(cells[position], result)
        except KeyboardInterrupt:
            complete = False
            self.cancel.set()
            restore = _ignore_further_interrupts()
            REGISTRY.kill_everything()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            for future, position in futures.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    result = future.result()
                    if result is not None and position not in results:
                        results[position] = result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.progress.close()
            for signum, handler in restore:
                signal.signal(signum, handler)
        return ExecutionReport([results[key] for key in sorted(results)], complete)


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
