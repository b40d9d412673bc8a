"""Where a scenario's app lives: `[server] app_dir`, or looked up.

`app_dir` names a folder relative to the scenario file (a user's apps beside
their scenarios).  Without it the module is looked up beside the scenario,
in a sibling `server/` folder, then in the harness's own `server/`; when it is
in none of them but in a subfolder of the scenario's folder, the error says
which `app_dir` to set.
"""

from __future__ import annotations

from pathlib import Path

from harness.scenario.toml_table import Table

#: The reference apps shipped with the harness (and its `launch.py`).
BUILTIN_SERVER_DIR = Path(__file__).resolve().parents[2] / "server"
#: The harness's own launcher for programmatic starts: the `{launcher}` placeholder.
LAUNCHER = BUILTIN_SERVER_DIR / "launch.py"


def own_app_dir(table: Table, text: str, module: str, scenario_path: Path) -> Path:
    """`app_dir`: a folder relative to the scenario file that holds the app module."""
    if Path(text).is_absolute() or "\\" in text or text.startswith("~"):
        raise table.error("app_dir", f"{text!r} must be relative to the scenario file")
    directory = (scenario_path.parent / text).resolve()
    if not directory.is_dir():
        raise table.error("app_dir", f"{text!r} is not a folder beside {scenario_path.name}")
    top_level = module.split(".", 1)[0]
    if not ((directory / f"{top_level}.py").is_file() or (directory / top_level).is_dir()):
        raise table.error("app", f"module {module!r} not found in app_dir {text!r}")
    return directory


def not_found(module: str, scenario_path: Path) -> str:
    """The error for an app module that is nowhere, with a hint when a subfolder has it."""
    message = f"module {module!r} not found beside the scenario or in server/"
    top_level = module.split(".", 1)[0]
    try:
        holders = sorted(
            sub.name
            for sub in scenario_path.parent.iterdir()
            if sub.is_dir() and ((sub / f"{top_level}.py").is_file() or (sub / top_level).is_dir())
        )
    except OSError:
        holders = []
    if holders:
        message += f"; it is in {holders[0]}/: set [server] app_dir = {holders[0]!r}"
    return message


def find_app_dir(module: str, scenario_path: Path) -> Path | None:
    """The app lives beside the scenario, in a sibling `server/`, or in ours."""
    top_level = module.split(".", 1)[0]
    candidates = [
        scenario_path.parent,
        scenario_path.parent.parent / "server",
        BUILTIN_SERVER_DIR,
    ]
    for directory in candidates:
        if (directory / f"{top_level}.py").is_file() or (directory / top_level).is_dir():
            return directory.resolve()
    return None
