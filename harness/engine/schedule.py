"""Which work runs next: the costliest first, environments built while cells run.

A run's wall time is set by its last cells.  Two things keep the end short:

* cells are ordered by expected cost (longest first), learned from earlier
  runs on the same cache (`CostModel`: a moving average of each scenario's
  cell duration); a scenario not seen yet is
  estimated from its shape (`harness.plan.shards.run_cost`: probes, log waits,
  readiness bound), scaled by how such estimates compared with what the known
  scenarios really took;
* environments are built on their own threads while ready cells run, instead
  of each cell building its own environment in a cell slot (a cell waiting for
  a build that another cell started would hold its slot idle).

`CostOrderedPool` is a thread pool whose next task is always the costliest one
queued at the moment a thread frees up.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from harness.atomic import write_text_atomic
from harness.plan.cells import Cell
from harness.plan.shards import run_cost

#: Bump when the file's meaning changes: an older one is ignored.
COSTS_FORMAT = 1
COSTS_FILE = "costs.json"
#: Weight of the newest observation in the moving averages.
SMOOTHING = 0.5


class CostModel:
    """Expected seconds of each scenario's cells, learned run after run."""

    def __init__(self, scenarios: Mapping[str, float] | None = None) -> None:
        self.scenarios: dict[str, float] = dict(scenarios or {})
        #: learned seconds per `run_cost` second, for scenarios not seen yet
        self.scale = 1.0

    def cell_cost(self, cell: Cell) -> float:
        """What the cell is expected to take once its environment exists."""
        learned = self.scenarios.get(cell.scenario.id)
        return learned if learned is not None else run_cost(cell) * self.scale

    def calibrate(self, cells: Iterable[Cell]) -> None:
        """Relate the shape estimates of the known scenarios to what they took."""
        ratios = [
            self.scenarios[cell.scenario.id] / run_cost(cell)
            for cell in cells
            if cell.runnable and cell.scenario.id in self.scenarios and run_cost(cell) > 0
        ]
        self.scale = sum(ratios) / len(ratios) if ratios else 1.0

    def learn(self, observations: Iterable[tuple[str, float]]) -> None:
        """Fold in the (scenario id, seconds) of a run's cells that ran."""
        per_scenario: dict[str, list[float]] = {}
        for scenario_id, duration_s in observations:
            if duration_s > 0:
                per_scenario.setdefault(scenario_id, []).append(duration_s)
        for scenario_id, durations in per_scenario.items():
            self.scenarios[scenario_id] = _blend(
                self.scenarios.get(scenario_id), sum(durations) / len(durations)
            )

    @classmethod
    def load(cls, cache_dir: Path) -> CostModel:
        """The model kept in the cache; an empty one when missing or unreadable."""
        try:
            data = json.loads((cache_dir / COSTS_FILE).read_text(encoding="utf-8"))
            if data.get("format") != COSTS_FORMAT:
                return cls()
            return cls({str(k): float(v) for k, v in data["scenarios"].items() if float(v) > 0})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def save(self, cache_dir: Path) -> None:
        """Best effort: an unwritable cache only loses the ordering hint."""
        payload = {
            "format": COSTS_FORMAT,
            "scenarios": {k: round(v, 4) for k, v in sorted(self.scenarios.items())},
        }
        with contextlib.suppress(OSError):
            write_text_atomic(cache_dir / COSTS_FILE, json.dumps(payload, indent=1), durable=False)


def _blend(old: float | None, new: float) -> float:
    return new if old is None else SMOOTHING * new + (1 - SMOOTHING) * old


class CostOrderedPool:
    """A thread pool that always starts the costliest queued task next.

    Every `submit` queues the task on a heap and hands the executor one token;
    a thread that picks up a token runs whatever is costliest at that moment,
    so tasks queued later (a cell whose environment just finished building)
    still overtake cheaper ones queued earlier.
    """

    def __init__(self, workers: int, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def submit(self, cost: float, task: Callable[[], None]) -> Future[None]:
        with self._lock:
            heapq.heappush(self._heap, (-cost, next(self._order), task))
        return self._executor.submit(self._run_costliest)

    def _run_costliest(self) -> None:
        with self._lock:
            _, _, task = heapq.heappop(self._heap)
        task()

    def shutdown(self, cancel: bool = False) -> None:
        self._executor.shutdown(wait=True, cancel_futures=cancel)
