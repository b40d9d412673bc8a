"""`--help` preconditions, asked once per environment, with a fake CLI that prints
help (the end-to-end tests ask real uvicorn releases)."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.runner.observation import Check
from harness.runner.preconditions import HelpTexts, capability_verdict
from harness.scenario.checks import HttpProbe
from harness.targets.launchers import NativeLauncher


class ScriptLauncher(NativeLauncher):
    """Runs `uvicorn` as a given script with this interpreter."""

    def __init__(self, script: Path) -> None:
        self.script = script
        self.calls = 0

    def argv_prefix(self, env_python: Path, head: str) -> list[str]:
        self.calls += 1
        return [sys.executable, str(self.script)]


def fake_cli(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake_uvicorn.py"
    script.write_text(body, encoding="utf-8")
    return script


def test_help_is_asked_once_per_environment(tmp_path: Path) -> None:
    launcher = ScriptLauncher(
        fake_cli(tmp_path, "import json\nprint('Options: --reset-contextvars')\n")
    )
    texts = HelpTexts()
    python = tmp_path / "env" / "bin" / "python"
    cell = tmp_path / "run" / "cell-1"
    cell.mkdir(parents=True)
    first = texts.get(python, launcher, tmp_path, cell)
    assert first is not None and "--reset-contextvars" in first
    assert texts.get(python, launcher, tmp_path, cell) == first
    assert launcher.calls == 1, "the second cell of the environment reuses the answer"
    assert not list(tmp_path.rglob("__pycache__")), "no bytecode beside the app"
    assert (tmp_path / "run" / "pycache").is_dir(), "bytecode goes to the run's scratch folder"


def test_a_help_that_fails_says_nothing(tmp_path: Path) -> None:
    crash = "import sys\nprint('Traceback (most recent call last):')\nsys.exit(1)\n"
    launcher = ScriptLauncher(fake_cli(tmp_path, crash))
    assert HelpTexts().get(tmp_path / "python", launcher, tmp_path, tmp_path) is None
    traceback = "print('Traceback (most recent call last):\\nModuleNotFoundError: x')\n"
    launcher = ScriptLauncher(fake_cli(tmp_path, traceback))
    assert HelpTexts().get(tmp_path / "other", launcher, tmp_path, tmp_path) is None


def test_a_capability_counts_only_when_the_app_answered() -> None:
    probe = HttpProbe(path="/has-state", body="yes")
    no = Check("applies-0", False, "body 'no', wanted 'yes'")
    assert capability_verdict(probe, no, answered=True) == (
        "not applicable: the app reports otherwise (GET /has-state: body 'no', wanted 'yes')"
    )
    assert capability_verdict(probe, no, answered=False) is None, "no answer proves nothing"
    assert capability_verdict(probe, Check("applies-0", True), answered=True) is None
