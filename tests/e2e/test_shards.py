"""Shards of one real run, merged by `report`, are the unsharded run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=600, stdin=subprocess.DEVNULL, env={**os.environ, "CI": "true"},
    )  # fmt: skip


def cell_set(cells: list[dict[str, object]]) -> set[tuple[object, ...]]:
    return {
        (c["scenario"], c["version"], c["python"], c["platform"], tuple(c["extras"]),  # type: ignore[arg-type]
         c["outcome"], c["signature"])
        for c in cells
    }  # fmt: skip


def test_four_shards_merged_equal_the_unsharded_run(
    tmp_path: Path, cache_dir: Path, oldest: str, newest: str
) -> None:
    selection = ["--scenario", "port-zero-startup", "--scenario", "two-worker-startup",
                 "--versions", "0.13.4,0.14.0", "--python", oldest, "--python", newest]  # fmt: skip
    whole = run_cli(["run", *selection], cache_dir, tmp_path / "whole")
    assert whole.code == 0, whole.stdout + whole.stderr
    assert whole.results is not None
    planned = harness("plan", *selection, "--shards", "4", "--json", "--cache-dir", str(cache_dir))
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["matrix"]["shard"] == ["1/4", "2/4", "3/4", "4/4"]

    files = []
    for index in range(1, 5):
        folder = tmp_path / f"shard-{index}"
        folder.mkdir()
        shard = run_cli(["run", *selection, "--shard", f"{index}/4"], cache_dir, folder)
        assert shard.code == 0, shard.stdout + shard.stderr
        assert shard.results is not None and shard.results["cells"], f"shard {index} ran nothing"
        ran = {(c["scenario"], c["version"], c["python"]) for c in shard.results["cells"]}
        listed = {
            (c["scenario"], c["version"], c["python"]) for c in plan["cells"] if c["shard"] == index
        }
        assert ran == listed, "the plan and the shard disagree"
        files.append(str(folder / "results.json"))

    merged = tmp_path / "merged.json"
    report = harness("report", *files, "--json", str(merged))
    assert report.returncode == 0, report.stdout + report.stderr
    merged_cells = json.loads(merged.read_text())["cells"]
    assert len(merged_cells) == len(whole.results["cells"]) == 8
    assert cell_set(merged_cells) == cell_set(whole.results["cells"])
