"""The gate in a user's project: real requirements, real releases, real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def gate(
    project: Path, cache_dir: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, object] | None]:
    results = project / "gate.json"
    # The two seed scenarios: what the assertions below are about (the catalog's
    # other scenarios have cases of their own).
    seeds = ["--scenario", "port-zero-startup", "--scenario", "two-worker-startup"]
    argv = [sys.executable, "-m", "harness", "gate", *seeds, *args]
    argv += ["--cache-dir", str(cache_dir), "--json", str(results)]
    completed = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        env={**os.environ, "CI": "true", "COLUMNS": "120", **(env or {})},
    )  # fmt: skip
    data = json.loads(results.read_text()) if results.exists() else None
    return completed.returncode, completed.stdout + completed.stderr, data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text("uvicorn==0.13.3\nh11==0.12.0\n")
    return tmp_path


def test_upgrading_to_0_13_4_fails_and_0_14_0_passes(
    project: Path, cache_dir: Path, oldest: str
) -> None:
    summary = project / "step-summary.md"
    requirements = str(project / "requirements.txt")
    code, out, data = gate(
        project, cache_dir, "--candidate", "uvicorn==0.13.4", "--requirements", requirements,
        "--python", oldest, "--markdown", str(project / "gate.md"),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert code == 1, out
    assert "gate FAILED: uvicorn 0.13.3 -> 0.13.4" in out
    assert f"newly failing (1): port-zero-startup py{oldest} linux" in out
    assert "known bug port0-getpeername-enotconn, fixed in 0.14.0" in out
    assert data is not None
    cells = data["cells"]
    assert isinstance(cells, list)
    assert {(c["version"], c["scenario"]) for c in cells} == {
        (v, s) for v in ("0.13.3", "0.13.4") for s in ("port-zero-startup", "two-worker-startup")
    }
    assert all(c["resolved"]["h11"] == "0.12.0" for c in cells), "the user's pin was not applied"
    assert any("newly failing" in note for note in data["notes"])  # type: ignore[attr-defined]
    markdown = (project / "gate.md").read_text()
    assert markdown.startswith("## ❌ gate FAILED")
    assert summary.read_text().startswith("## ❌ gate FAILED")

    code, out, data = gate(
        project, cache_dir, "--candidate", "uvicorn==0.14.0", "--requirements", requirements,
        "--python", oldest,
    )  # fmt: skip
    assert code == 0, out
    assert "gate PASSED: uvicorn 0.13.3 -> 0.14.0: all 2 cell(s) pass" in out
    assert "newly failing (0): none" in out


def test_a_candidate_that_conflicts_with_the_pins_exits_2_with_the_resolvers_words(
    tmp_path: Path, cache_dir: Path, oldest: str
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("uvicorn[standard]==0.13.3\nwebsockets==8.1\n")
    code, out, data = gate(
        tmp_path, cache_dir, "--candidate", "uvicorn==0.14.0", "--requirements",
        str(requirements), "--python", oldest,
    )  # fmt: skip
    assert code == 2, out
    assert "gate ERROR: uvicorn==0.14.0 conflicts with your pins" in out
    assert "the resolver says:" in out
    assert "websockets>=9.1" in out and "websockets==8.1" in out
    assert data is not None
    cells = data["cells"]
    assert isinstance(cells, list) and cells
    assert all(c["version"] == "0.14.0" and c["outcome"] == "install-error" for c in cells), (
        "no scenario may run (nor the baseline) when the candidate conflicts"
    )


def test_bad_dependency_files_are_usage_errors(tmp_path: Path, cache_dir: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("uvicorn==0.13.3\nnot a requirement\n")
    code, out, _ = gate(
        tmp_path, cache_dir, "--candidate", "uvicorn==0.14.0", "--requirements", str(requirements)
    )
    assert code == 3, out
    assert "requirements.txt:2: not a requirement" in out
    code, out, _ = gate(tmp_path, cache_dir, "--candidate", "uvicorn>=0.14")
    assert code == 3 and "must pin one release exactly" in out
