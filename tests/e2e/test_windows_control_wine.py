"""The Windows process strategy, run for real by a Windows CPython under Wine.

Needs Wine (`.ci/run` installs it) and a Windows `python.exe` 3.10+: the one named
by `HARNESS_WINE_PYTHON`, else python.org's embeddable 3.12, fetched and unpacked
the way the windows-wine target does it.  What Wine 8
cannot do is printed, not hidden: its taskkill has no `/T`, and without a
console `CTRL_BREAK_EVENT` cannot be sent, so there the strategy's fallback
(taskkill of the leader, then the registry's kill of known members) is what runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path, PureWindowsPath

import pytest

from harness.envs.index import ReleaseIndex
from harness.envs.index_config import discover_index_config
from harness.targets.wine.embed import fetch_sdist, unpack_embeddable
from harness.targets.wine.pythons import EmbedPythons
from harness.targets.wine.tools import INSTALL_COMMAND, locate_tools
from tests.conftest import ROOT
from tests.e2e.tools import missing_tool

pytestmark = pytest.mark.e2e
WINE_PYTHON = os.environ.get("HARNESS_WINE_PYTHON")


def windows_path(path: Path) -> str:
    return str(PureWindowsPath("Z:/", *path.resolve().parts[1:]))


@pytest.fixture(scope="module")
def wine_python(cache_dir: Path) -> str:
    """`HARNESS_WINE_PYTHON`, else python.org's embeddable 3.12 as the wine target unpacks it."""
    if WINE_PYTHON:
        return WINE_PYTHON
    if locate_tools() is None:
        missing_tool(f"this test needs Wine: {INSTALL_COMMAND}")
    index = ReleaseIndex(discover_index_config(), cache_dir)
    release = EmbedPythons(index).release_for("3.12")
    dest = cache_dir / "wine-control-python-3.12"
    if not (dest / "python.exe").is_file():
        sdist = fetch_sdist(index.config, release, cache_dir / "wine-control-downloads")
        unpack_embeddable(sdist, "3.12", dest)
    return str(dest / "python.exe")


def test_windows_control_under_wine(tmp_path: Path, wine_python: str) -> None:
    for name in ("harness/procs/control.py", "tests/wine/windows_control_check.py"):
        shutil.copy(ROOT / name, tmp_path)
    env = {**os.environ, "WINEPREFIX": str(tmp_path / "prefix"), "WINEDEBUG": "-all"}
    completed = subprocess.run(
        ["wine", wine_python, windows_path(tmp_path / "windows_control_check.py"),
         windows_path(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    subprocess.run(["wineserver", "-k"], env=env, timeout=60, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert lines, completed.stdout + completed.stderr
    findings = json.loads(lines[-1])
    print("windows control under wine:", findings)
    assert findings["flags"] == 0x200  # CREATE_NEW_PROCESS_GROUP
    assert findings["taskkill_tree"]["leader_alive"] is False
