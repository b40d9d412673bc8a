"""`--repeat N` marks cells whose outcomes differ as flaky; a signature marked
`flaky = true` gets a bounded retry.  Every attempt is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import (
    FAULT_VERSION,
    FaultRow,
    leftovers,
    run_harness,
    scenario_bound,
)

pytestmark = pytest.mark.e2e

FLAKY = """
id = "flaky-start"
title = "start-up fails every other time"
platforms = ["linux", "macos"]

[server]
app = "faults.flaky_start:app"
command = ["uvicorn", "{{app}}", "--host", "{{host}}", "--port", "{{port}}"]
ready = 'Uvicorn running on https?://(?P<host>[^\\s:]+):(?P<port>\\d+)'
env = {{ FLAKY_STATE = "{state}" }}

[[expect.http]]
path = "/"
body = "Hello, world!"
{signature}
"""
FLAKY_SIGNATURE = """
[[signature]]
id = "flaky-start"
pattern = 'flaky start: attempt \\d+ failed'
flaky = true
"""


def write_flaky(tmp_path: Path, signature: str) -> Path:
    folder = tmp_path / "scenarios"
    state = tmp_path / "state"
    folder.mkdir()
    state.mkdir()
    text = FLAKY.format(state=state.as_posix(), signature=signature)
    (folder / "flaky.toml").write_text(text)
    return folder


@pytest.mark.fault("13", "--repeat 2 on a flaky start-up")
def test_repeat_marks_differing_outcomes_flaky(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    folder = write_flaky(tmp_path, signature="")
    args = ["--versions", FAULT_VERSION, "--python", fault_python, "--repeat", "2"]
    run = run_harness(args, fault_cache, tmp_path, scenarios=folder)
    cell = run.cell("flaky-start")
    fault_row.outcome, fault_row.seconds = cell["outcome"], cell["duration_s"]
    fault_row.bound_s = 2 * scenario_bound("flaky-start", folder)
    fault_row.left = len(leftovers([run.run_id], fault_cache))
    assert cell["duration_s"] <= fault_row.bound_s
    assert cell["outcome"] == "flaky"
    assert cell["expected"] is False
    assert run.code == 1
    attempts = cell["attempts"]
    assert [a["outcome"] for a in attempts] == ["new-failure", "pass"]
    assert [a["repetition"] for a in attempts] == [1, 2]
    assert "flaky start: attempt 1 failed" in attempts[0]["output_tail"]
    assert "outcomes differ across 2 runs" in cell["reason"]
    assert "flaky start: attempt 1 failed" in cell["output_tail"]  # the failing run's evidence
    assert "~ flaky" in run.stdout
    assert fault_row.left == 0


@pytest.mark.fault("14", "flaky signature: bounded retry")
def test_flaky_signature_is_retried(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    folder = write_flaky(tmp_path, signature=FLAKY_SIGNATURE)
    args = ["--versions", FAULT_VERSION, "--python", fault_python]
    run = run_harness(args, fault_cache, tmp_path, scenarios=folder)
    cell = run.cell("flaky-start")
    fault_row.outcome, fault_row.seconds = cell["outcome"], cell["duration_s"]
    fault_row.bound_s = 3 * scenario_bound("flaky-start", folder)  # at most 2 retries
    fault_row.left = len(leftovers([run.run_id], fault_cache))
    assert cell["duration_s"] <= fault_row.bound_s
    assert cell["outcome"] == "pass", cell["reason"]
    assert "after 1 retry on flaky signature flaky-start" in cell["reason"]
    attempts = cell["attempts"]
    assert [(a["retry"], a["outcome"], a["signature"]) for a in attempts] == [
        (0, "known-failure", "flaky-start"),
        (1, "pass", None),
    ]
    assert run.code == 0
    assert fault_row.left == 0


def test_repeat_of_a_stable_cell_keeps_every_attempt(
    fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    args = ["--scenario", "fault-exit-zero", "--versions", FAULT_VERSION, "--python",
            fault_python, "--repeat", "3"]  # fmt: skip
    run = run_harness(args, fault_cache, tmp_path)
    cell = run.cell("fault-exit-zero")
    assert cell["outcome"] == "new-failure"
    assert [a["outcome"] for a in cell["attempts"]] == ["new-failure"] * 3
    assert [a["repetition"] for a in cell["attempts"]] == [1, 2, 3]


def test_repeat_out_of_range_is_a_usage_error(fault_cache: Path, tmp_path: Path) -> None:
    run = run_harness(["--repeat", "0"], fault_cache, tmp_path)
    assert run.code == 3
    assert "--repeat must be between 1 and 100, got 0" in run.stderr
