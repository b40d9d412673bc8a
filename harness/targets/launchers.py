"""How a cell's server process is launched and signalled on its target platform.

The runner is the same everywhere; what differs between the host and an
emulated target (Windows under Wine) is small and lives behind this interface:
the argument prefix that runs the environment's interpreter, the environment
variables, a preparation step before each start, the signal that asks the
server to stop, and whether the server's listening sockets can be inspected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from harness.procs.control import CONTROL


class Launcher(Protocol):
    #: Why the server's own listening sockets cannot be seen here ("" when they can).
    sockets_hidden: str

    def argv_prefix(self, env_python: Path, head: str) -> list[str]:
        """What runs `head` ("uvicorn" or "python") with the environment's interpreter."""
        ...

    def environment(self, env: dict[str, str], app_dir: Path) -> dict[str, str]:
        """The server's environment, from the one the runner prepared."""
        ...

    def prepare(self) -> None:
        """Called before every start (e.g. to keep Wine's services off our pipes)."""
        ...

    def stop_signal(self, name: str) -> int:
        """The signal number to send for the scenario's stop signal name."""
        ...


def uvicorn_command(env_python: Path) -> list[str]:
    """`python -m uvicorn`, or the console script for releases without
    `uvicorn/__main__.py` (before 0.9), which cannot run as a module."""
    env_dir = env_python.parent.parent
    patterns = ("lib/python*/site-packages/uvicorn", "Lib/site-packages/uvicorn")
    packages = [path for pattern in patterns for path in env_dir.glob(pattern)]
    if packages and not any((package / "__main__.py").is_file() for package in packages):
        for script in (env_python.parent / "uvicorn", env_python.parent / "uvicorn.exe"):
            if script.is_file():
                return [str(script)]
    return [str(env_python), "-m", "uvicorn"]


class NativeLauncher:
    """The host itself: `python -m uvicorn` (or the script of releases that have no
    `__main__`), the runner's environment, real signals."""

    sockets_hidden = ""

    def argv_prefix(self, env_python: Path, head: str) -> list[str]:
        return uvicorn_command(env_python) if head == "uvicorn" else [str(env_python)]

    def environment(self, env: dict[str, str], app_dir: Path) -> dict[str, str]:
        return env

    def prepare(self) -> None:
        return None

    def stop_signal(self, name: str) -> int:
        return CONTROL.stop_signal(name)  # CTRL_BREAK on Windows


NATIVE = NativeLauncher()
