"""Platform names used in scenarios, signatures and results.

Results carry the platform they were observed on, so shards from Linux, macOS and
Windows machines can be merged into one matrix.
"""

from __future__ import annotations

import sys

LINUX = "linux"
MACOS = "macos"
WINDOWS = "windows"

KNOWN_PLATFORMS: frozenset[str] = frozenset({LINUX, MACOS, WINDOWS})


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


def is_windows() -> bool:
    return current_platform() == WINDOWS
