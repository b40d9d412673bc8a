"""The run's fast paths and the `cache` command, against real environments.

A run keeps what the next one needs to start fast (interpreter probe answers,
learned cell costs) and the `cache` command reports the disk the environments
use, counting the files uv hard-links from its own cache once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.commands.cache import uv_cache_dir
from tests.conftest import ROOT
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e

RELEASES = "0.13.4,0.14.0"


def test_a_run_keeps_its_start_up_answers_and_the_cache_reports_its_disk(
    tmp_path: Path, oldest: str
) -> None:
    cache = tmp_path / "cache"  # its own: the figures must cover only this run's environments
    args = ["run", "--scenario", "port-zero-startup", "--versions", RELEASES, "--python", oldest]
    first = run_cli([*args, "--no-narrow"], cache, tmp_path)
    assert first.code == 0, first.stdout + first.stderr
    probes = json.loads((cache / "interpreters.json").read_text())["interpreters"]
    assert any(entry["version"].startswith(oldest) for entry in probes.values())
    costs = json.loads((cache / "costs.json").read_text())["scenarios"]
    assert costs["port-zero-startup"] > 0

    again = run_cli([*args, "--no-narrow"], cache, tmp_path)
    assert again.code == 0
    assert all(cell["env_reused"] for cell in again.cells().values())

    shown = subprocess.run(
        [sys.executable, "-m", "harness", "cache", "--cache-dir", str(cache), "--json", "-"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "CI": "true"}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    usage = json.loads(shown.stdout)
    envs = usage["environments"]
    assert sorted(env["requirements"][0] for env in envs) == [
        f"uvicorn=={v}" for v in RELEASES.split(",")
    ]
    alone = sum(env["bytes"] for env in envs)
    assert 0 < usage["parts"]["envs"]["bytes"] <= alone
    uv_cache = uv_cache_dir()
    if uv_cache is not None and uv_cache.stat().st_dev == cache.stat().st_dev:
        # One filesystem: uv hard-links the packages, so they are shared, not copied.
        assert usage["total"]["installer_shared_bytes"] > 0
        assert all(env["installer_shared_bytes"] > 0 for env in envs)
    text = subprocess.run(
        [sys.executable, "-m", "harness", "cache", "--cache-dir", str(cache)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "CI": "true", "COLUMNS": "120"}, stdin=subprocess.DEVNULL,
    ).stdout  # fmt: skip
    text = " ".join(text.split())
    assert "each hard-linked file counted once" in text
    assert "2 environment(s)" in text and "uvicorn==0.13.4" in text
