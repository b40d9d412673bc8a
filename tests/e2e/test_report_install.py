"""The report templates ship in the wheel: a non-editable install renders reports."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.report_data import all_cells, results, write

pytestmark = pytest.mark.e2e


def _uv(*args: str, cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "uv", *args], cwd=cwd, check=True, capture_output=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_an_installed_harness_writes_the_html_report(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _uv("build", "--wheel", "--out-dir", str(dist), str(ROOT), cwd=tmp_path)
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for template in ("report.html.j2", "report.css", "report.js"):
        assert f"harness/reports/templates/{template}" in names

    venv = tmp_path / "venv"
    _uv("venv", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _uv("pip", "install", "--python", str(python), str(wheel), cwd=tmp_path)

    run = results(all_cells())
    run.claims = [{"scenario": "port-zero-startup", "signature": "port0-getpeername-enotconn",
                   "claim": "fixed in 0.14.0", "platforms": ["linux", "macos"],
                   "verdict": "refined", "detail": "stored verdict"}]  # fmt: skip
    source = write(tmp_path / "results.json", run)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    completed = subprocess.run(
        [str(python), "-m", "harness", "report", str(source), "--html", "index.html",
         "--junit", "junit.xml"],
        cwd=elsewhere, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, "GITHUB_STEP_SUMMARY": ""},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "showing the stored claims" in completed.stdout
    page = (elsewhere / "index.html").read_text()
    assert '<table class="grid"' in page and "stored verdict" in page
    assert "site-packages" in subprocess.run(
        [str(python), "-c", "import harness.reports; print(harness.reports.__file__)"],
        cwd=elsewhere, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
