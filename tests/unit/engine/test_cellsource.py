"""What answering cells costs: builds (failed ones too), reused environments,
cells skipped before anything was built, and cells that did not apply after it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from packaging.version import Version

from harness.engine.cellsource import CellSource
from harness.engine.executor import ExecutionReport
from harness.engine.progress import SilentProgress
from harness.envs.index import Release
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.plan.cells import Cell, plan_cell
from harness.results import CellResult
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS

PORT_ZERO = load_scenarios([SCENARIOS])["port-zero-startup"]
PY38 = PythonRequest("3.8", Interpreter(Path("/opt/py38/bin/python3"), Version("3.8.18")))


def cell(version: str) -> Cell:
    return plan_cell(PORT_ZERO, Version(version), Release(Version(version)), PY38, "linux")


def result(planned: Cell, **fields: Any) -> CellResult:
    base = CellResult(
        scenario=PORT_ZERO.id, package="uvicorn", version=str(planned.version), python="3.8",
        platform="linux", outcome="pass", expected=True, reason="",
    )  # fmt: skip
    return dataclasses.replace(base, **fields)


class FakeHarness:
    """Executes cells by handing back prepared results."""

    def __init__(self, answers: dict[str, CellResult]) -> None:
        self.answers = answers
        self.env_cache = SimpleNamespace()

    def execute(self, cells: list[Cell], progress: object) -> ExecutionReport:
        return ExecutionReport([self.answers[str(c.version)] for c in cells], True)


def test_builds_reuses_failures_and_cells_that_did_not_apply_are_counted() -> None:
    cells = [cell(v) for v in ("0.13.0", "0.13.3", "0.13.4", "0.14.0", "0.15.0")]
    answers = {
        "0.13.0": result(cells[0], env_reused=False, exit_code=0),
        "0.13.3": result(cells[1], env_reused=True, exit_code=0),
        "0.13.4": result(cells[2], outcome="install-error", expected=False),
        # not applicable, found with --help once its environment was built:
        "0.14.0": result(cells[3], outcome="skip", env_reused=False, exit_code=None,
                         reason="not applicable: --x is not in uvicorn 0.14.0 --help"),
        # not applicable, the app said so: a server ran
        "0.15.0": result(cells[4], outcome="skip", env_reused=True, exit_code=0,
                         reason="not applicable: the app reports otherwise (GET /x: ...)"),
    }  # fmt: skip
    source = CellSource(FakeHarness(answers), SilentProgress(), reuse=False)  # type: ignore[arg-type]
    observed = source.observe(cells, "bisect")
    assert [r.origin for r in observed] == ["bisect"] * 5
    cost = source.cost
    assert (cost.builds, cost.failed_builds, cost.envs_reused, cost.servers_run) == (3, 1, 2, 3)


def test_a_cell_skipped_before_building_costs_nothing() -> None:
    planned = dataclasses.replace(cell("0.13.0"), skip_reason="requires Python >=3.9")
    source = CellSource(FakeHarness({}), SilentProgress(), reuse=False)  # type: ignore[arg-type]
    (skipped,) = source.observe([planned], "bisect")
    assert skipped.outcome == "skip" and skipped.reason == "requires Python >=3.9"
    assert source.cost.builds == source.cost.servers_run == 0
