"""Item 3: a scenario's regex cannot freeze the harness.

Every place a scenario's pattern is matched (signatures, ready lines, log
checks, raw checks) ends with a definite outcome naming the pattern, within
the cell's limits, and Ctrl-C still ends the run (exit 130) within a second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.scenario.loader import load_scenarios
from tests.conftest import ROOT
from tests.security.conftest import VERSION, HostileRun, scenario_text, write_scenarios

pytestmark = pytest.mark.e2e


def test_the_reported_pattern_ends_the_cell_with_a_definite_outcome(
    hostile_run: HostileRun,
) -> None:
    """`^(a+)+$` against "a" * 40 + "!": the log check fails, the cell is judged."""
    result = hostile_run.cell("issue-regex")
    assert result["outcome"] == "new-failure", result
    assert result["duration_s"] < 30


@pytest.mark.parametrize(
    ("scenario_id", "where"),
    [
        ("slow-signature", "the output (signature slow)"),
        ("slow-ready", "the server's output"),
        ("slow-log", "the server's output"),
        ("slow-raw", "what raw-0 received"),
    ],
)
def test_a_catastrophic_pattern_is_an_error_naming_it(
    hostile_run: HostileRun, scenario_id: str, where: str
) -> None:
    result = hostile_run.cell(scenario_id)
    assert result["outcome"] == "error", result
    assert f"the pattern /^(a|a)+$/ did not finish matching {where}" in result["reason"]


def test_every_cell_ended_within_its_limits(hostile_run: HostileRun) -> None:
    folder = hostile_run.outputs["results.json"].parent.parent / "scenarios"
    bounds = {s.id: s.max_duration_s() for s in load_scenarios([folder]).values()}
    for result in hostile_run.results["cells"]:
        assert result["duration_s"] <= bounds[result["scenario"]], result


def test_ctrl_c_ends_the_run_within_a_second(
    tmp_path: Path, security_cache: Path, python_minor: str
) -> None:
    """The app prints the backtracking line every 20 ms and twelve log checks match
    it, one after another, each until its deadline (3 s of matching in all);
    SIGINT arrives in the middle, and the run still ends at once with exit 130."""
    checks = "\n[[expect.log]]\npattern = '^(a|a)+$'\n" * 12
    body = '\n[[expect.http]]\npath = "/"\nstatus = 200\n' + checks
    body += "\n[[signature]]\nid = 'slow'\npattern = '^(a|a)+$'\n"
    folder = write_scenarios(
        tmp_path / "scenarios", {"flood": scenario_text("flood", "backtrack_flood:app", body)}
    )
    results = tmp_path / "results.json"
    argv = [sys.executable, "-m", "harness", "run", "--scenarios-dir", str(folder),
            "--versions", VERSION, "--python", python_minor, "--cache-dir", str(security_cache),
            "--json", str(results)]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CI": "true"}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "running 1 cell(s)" in line:
            break
    time.sleep(1.2)  # the server is up and printing; the matcher is busy
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        rest = process.communicate(timeout=30)[0]
    finally:
        process.kill()
    took = time.monotonic() - sent
    assert process.returncode == 130, "".join(seen) + rest
    assert took < 1.0, f"exit 130 came {took:.2f}s after SIGINT"
    assert json.loads(results.read_text())["complete"] is False
