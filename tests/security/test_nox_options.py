"""Item 5: the nox sessions read `--json=PATH` (and `--html=`) the way the harness does,
so a path the user gave is honoured and `reports/` is not overwritten behind their back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))
import noxfile

DEFAULTS = {"--json": Path("/d/results.json"), "--html": Path("/d/index.html")}


@pytest.mark.parametrize(
    ("args", "added"),
    [
        (["--json=mine.json"], ["--html", "/d/index.html"]),
        (["--json", "mine.json"], ["--html", "/d/index.html"]),
        (["--html=mine.html", "--json=mine.json"], []),
        (["--html", "mine.html"], ["--json", "/d/results.json"]),
        ([], ["--json", "/d/results.json", "--html", "/d/index.html"]),
        (["--scenario", "x", "--json=a=b.json"], ["--html", "/d/index.html"]),
        # An abbreviation is not the option (the harness takes none either).
        (["--js", "x"], ["--json", "/d/results.json", "--html", "/d/index.html"]),
    ],
)
def test_defaults_are_added_only_for_options_not_given(args: list[str], added: list[str]) -> None:
    assert noxfile.with_defaults(args, DEFAULTS) == [*args, *added]


def test_bisects_json_equals_form_is_honoured() -> None:
    args = ["port-zero-startup", "--json=edges.json"]
    assert noxfile.with_defaults(args, {"--json": Path("/d/bisect.json")}) == args


@pytest.mark.e2e
def test_nox_regress_passes_the_users_json_path(tmp_path: Path) -> None:
    """The real session, as reported: `nox -s regress -- --json=PATH`.  The scenario
    does not exist, so the harness stops (exit 3) right after showing its command."""
    mine = tmp_path / "mine.json"
    completed = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "regress",
         "--envdir", str(tmp_path / "envs"), "--", f"--json={mine}", "--scenario", "no-such"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CI": "true"},
    )  # fmt: skip
    log = completed.stdout + completed.stderr
    assert completed.returncode == 3, log
    command = next(line for line in log.splitlines() if "-m harness run" in line)
    assert f"--json={mine}" in command
    assert command.count("--json") == 1 and "reports/results.json" not in command, command
