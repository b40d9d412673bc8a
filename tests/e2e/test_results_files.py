"""Where results go: an ad-hoc run writes its own file and never the main job's.

The issue's check, for real: with a main job's `reports/results.json` and
`reports/index.html` in place, `run --scenario port-zero-startup --versions
0.13.4 --python X` leaves both untouched, writes `reports/runs/<time>-<selection>.json`
and says where; a run in which nothing can run (`--python 2.7`) writes nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def _harness(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "COLUMNS": "80", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_an_ad_hoc_run_leaves_the_main_results_alone(
    cache_dir: Path, tmp_path: Path, oldest: str
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    main = reports / "results.json"
    main.write_text('{"the main job": true}\n')
    page = reports / "index.html"
    page.write_text("<p>the full report</p>\n")
    selection = ["--scenario", "port-zero-startup", "--versions", "0.13.4"]
    run = _harness(["run", *selection, "--python", oldest, "--cache-dir", str(cache_dir)], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert main.read_text() == '{"the main job": true}\n'
    assert page.read_text() == "<p>the full report</p>\n"
    (written,) = (reports / "runs").iterdir()
    pattern = rf"\d{{8}}T\d{{6}}Z-port-zero-startup-0\.13\.4-py{re.escape(oldest)}\.json"
    assert re.fullmatch(pattern, written.name), written.name
    assert f"results: reports/runs/{written.name}" in run.stdout
    cells = json.loads(written.read_text())["cells"]
    selected = [c for c in cells if c["origin"] == "selected"]
    assert [(c["version"], c["outcome"]) for c in selected] == [("0.13.4", "known-failure")]
    # The summary: ranges per scenario in 80 columns, a one-line legend.
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("legend:") and "✗ known" in line for line in lines)
    assert any("✗ 0.13.4 port0-getpeername-enotconn #974" in line for line in lines)

    nothing = _harness(
        ["run", *selection, "--python", "2.7", "--cache-dir", str(cache_dir)], tmp_path
    )
    assert nothing.returncode == 3, nothing.stdout + nothing.stderr
    assert "Python 2 is not supported" in nothing.stderr
    assert nothing.stdout == ""
    assert [p.name for p in (reports / "runs").iterdir()] == [written.name]
    assert main.read_text() == '{"the main job": true}\n'
