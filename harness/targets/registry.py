"""Target platforms of a run: the host itself, and emulated ones (windows-wine).

A target supplies what differs between platforms and nothing else: where its
Pythons come from, which backend builds its environments, how the runner
launches and stops a server, whether it can run here at all, and a session
around its cells (a warm wineserver for Wine).  `--platform` picks targets;
the default is the host.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from harness.envs.backends import Backend
from harness.envs.index import ReleaseIndex
from harness.envs.interpreters import InterpreterFinder, PythonSource
from harness.errors import UsageError
from harness.platforms import TARGET_PLATFORMS, WINDOWS_WINE, current_platform
from harness.targets.launchers import NATIVE, Launcher


class Target(Protocol):
    platform: str
    pythons: PythonSource
    launcher: Launcher
    #: None: environments are built by the run's configured backend (uv or virtualenv)
    backend: Backend | None

    def unavailable_reason(self) -> str | None:
        """Why no cell of this target can run on this machine (None: they can)."""
        ...

    def session(self, notify: Callable[[str], None]) -> contextlib.AbstractContextManager[None]:
        """Entered around the target's cells when at least one of them runs."""
        ...


class HostTarget:
    """The machine the harness runs on, with its own interpreters."""

    def __init__(self, finder: InterpreterFinder, platform: str | None = None) -> None:
        self.platform = platform or current_platform()
        self.pythons: PythonSource = finder
        self.launcher: Launcher = NATIVE
        self.backend: Backend | None = None

    def unavailable_reason(self) -> str | None:
        return None

    @contextlib.contextmanager
    def session(self, notify: Callable[[str], None]) -> Iterator[None]:
        yield


def parse_platforms(values: Iterable[str]) -> list[str]:
    """`--platform` values (repeatable, comma lists) in order, without duplicates."""
    names: dict[str, None] = {}
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                raise UsageError(f"--platform {value!r}: empty platform name")
            if name not in TARGET_PLATFORMS:
                known = ", ".join(sorted(TARGET_PLATFORMS))
                raise UsageError(f"--platform {name!r}: unknown platform (known: {known})")
            names[name] = None
    return list(names)


def make_targets(
    platforms: Sequence[str],
    cache_dir: Path,
    index: ReleaseIndex,
    finder: InterpreterFinder,
    offline: bool = False,
) -> list[Target]:
    """The targets for the requested platforms; the host when none is requested."""
    host = current_platform()
    targets: list[Target] = []
    for name in platforms or [host]:
        if name == host:
            targets.append(HostTarget(finder, host))
        elif name == WINDOWS_WINE:
            if host == "windows":
                raise UsageError(f"--platform {name}: this machine runs Windows itself")
            from harness.targets.wine.target import WineTarget  # POSIX-only modules

            targets.append(WineTarget(cache_dir, index, offline))
        else:
            also = f" and {WINDOWS_WINE}" if host != "windows" else ""
            raise UsageError(
                f"--platform {name}: this machine runs {host}; it can run {host}{also}"
            )
    return targets
