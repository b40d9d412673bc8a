"""Platform names used in scenarios, signatures and results.

Results carry the platform they were observed on, so shards from Linux, macOS and
Windows machines can be merged into one matrix.

A *target* platform is where a cell runs.  Besides the operating systems
themselves there are emulated targets: `windows-wine` runs a real Windows
CPython under Wine on a Linux host.  Its results stay tagged `windows-wine`
(never `windows`), but it belongs to the `windows` family, so signatures and
scenario platforms declared for `windows` apply to it.
"""

from __future__ import annotations

import sys

LINUX = "linux"
MACOS = "macos"
WINDOWS = "windows"
WINDOWS_WINE = "windows-wine"

#: Operating systems: what scenario and signature `platforms` lists name.
KNOWN_PLATFORMS: frozenset[str] = frozenset({LINUX, MACOS, WINDOWS})
#: Emulated targets and the operating system each one stands in for.
EMULATED: dict[str, str] = {WINDOWS_WINE: WINDOWS}
#: Every platform a cell can be run on (`--platform`, `[platform.<name>]` tables).
TARGET_PLATFORMS: frozenset[str] = KNOWN_PLATFORMS | frozenset(EMULATED)


def current_platform() -> str:
    """The platform this harness process runs on, in scenario vocabulary."""
    name: str = sys.platform
    if name.startswith("linux"):
        return LINUX
    if name == "darwin":
        return MACOS
    if name in ("win32", "cygwin"):
        return WINDOWS
    return name


def family(platform: str) -> str:
    """The operating system a (possibly emulated) target platform stands for."""
    return EMULATED.get(platform, platform)
