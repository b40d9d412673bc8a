"""Preconditions observed in a cell: what `uvicorn --help` lists, and what the
app reports when asked (see `harness.scenario.applicability`).

`--help` is asked once per environment and run (it does not change), with the
same clean environment a server gets.  Only a clean answer counts: a help that
crashes or exits non-zero says nothing about the option (it may be the very
bug under test), so the cell then goes on as if the condition held.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from harness.procs.registry import run_captured
from harness.runner.launch import ENV_ALLOW_LIST, pycache_prefix
from harness.runner.observation import Check
from harness.scenario.applicability import NOT_APPLICABLE
from harness.scenario.checks import HttpProbe
from harness.targets.launchers import Launcher

#: Bound on one `--help` (a cold import of an old release under an emulator is slow).
HELP_TIMEOUT_S = 60.0


class HelpTexts:
    """`uvicorn --help` per environment interpreter, asked at most once per run."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def get(self, env_python: Path, launcher: Launcher, app_dir: Path, scratch: Path) -> str | None:
        """The help text, or None when `--help` did not answer cleanly."""
        key = str(env_python)
        with self._lock:
            if key in self._texts:
                return self._texts[key]
        text = _ask_help(env_python, launcher, app_dir, scratch)
        with self._lock:
            self._texts[key] = text
        return text


def _ask_help(env_python: Path, launcher: Launcher, app_dir: Path, scratch: Path) -> str | None:
    env = {name: os.environ[name] for name in ENV_ALLOW_LIST if name in os.environ}
    env["PATH"] = os.pathsep.join([str(env_python.parent), env.get("PATH", "")])
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPYCACHEPREFIX"] = str(pycache_prefix(scratch))
    argv = [*launcher.argv_prefix(env_python, "uvicorn"), "--help"]
    code, text = run_captured(
        argv, timeout_s=HELP_TIMEOUT_S, cwd=scratch, env=launcher.environment(env, app_dir)
    )
    if code != 0 or "Traceback (most recent call last)" in text:
        return None
    return text


def capability_verdict(probe: HttpProbe, check: Check, answered: bool) -> str | None:
    """Why the cell does not apply, when the app answered the capability probe and
    the answer fails its expectations; None when it applies or did not answer."""
    if check.ok or not answered:
        return None
    return f"{NOT_APPLICABLE}the app reports otherwise ({probe.describe()}: {check.detail})"
