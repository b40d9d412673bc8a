"""`run`'s results file (its own, under reports/runs/) and a run where nothing can run."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.commands.run import nothing_to_run, results_path
from harness.plan.shards import ShardSpec


def _args(**given: Any) -> argparse.Namespace:
    values: dict[str, Any] = {"scenario": [], "versions": None, "python": [], "platform": []}
    values["shard"] = None
    values.update(given)
    return argparse.Namespace(**values)


def test_an_ad_hoc_run_gets_its_own_file_named_by_time_and_selection(tmp_path: Path) -> None:
    args = _args(scenario=["port-zero-startup"], versions="0.13.4", python=["3.8"])
    path = results_path(args, "2026-01-02T03:04:05Z", tmp_path)
    assert path == tmp_path / "20260102T030405Z-port-zero-startup-0.13.4-py3.8.json"
    path.write_text("{}")
    again = results_path(args, "2026-01-02T03:04:05Z", tmp_path)
    assert again.name == "20260102T030405Z-port-zero-startup-0.13.4-py3.8-2.json"
    everything = results_path(_args(), "2026-01-02T03:04:05Z", tmp_path)
    assert everything.name == "20260102T030405Z-all-default.json"


def test_selections_become_safe_bounded_names(tmp_path: Path) -> None:
    args = _args(
        scenario=["a", "b"],
        versions=">=0.12,<0.15 ../../etc",
        platform=["windows-wine"],
        shard=ShardSpec.parse("2/4"),
    )
    name = results_path(args, "2026-01-02T03:04:05Z", tmp_path).name
    assert name == "20260102T030405Z-a+b-_0.12_0.15_.._.._etc-windows-wine-shard2of4.json"
    long = _args(scenario=[f"scenario-{i}" for i in range(30)])
    assert len(results_path(long, "2026-01-02T03:04:05Z", tmp_path).name) < 120
    assert results_path(long, "2026-01-02T03:04:05Z", tmp_path).parent == tmp_path


def _cell(runnable: bool, skip: str | None = None, python_reason: str = "") -> Any:
    python = SimpleNamespace(reason=python_reason)
    return SimpleNamespace(runnable=runnable, skip_reason=skip, python=python)


def test_nothing_to_run_names_each_reason_once() -> None:
    assert nothing_to_run([_cell(True), _cell(False, "x")]) is None
    why = nothing_to_run(
        [
            _cell(False, "Python 2.7: Python 2 is not supported"),
            _cell(False, "Python 2.7: Python 2 is not supported"),
            _cell(False, None, "Python 3.99 not found (looked in PATH)"),
        ]
    )
    assert why == (
        "nothing ran: every cell would be skipped (Python 2.7: Python 2 is not supported; "
        "Python 3.99 not found (looked in PATH))"
    )
