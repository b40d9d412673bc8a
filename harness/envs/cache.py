"""One cached virtual environment per (release, Python, extras, pins, constraints, backend).

An environment can be built for another target platform than the host (a
Windows environment run under Wine): the target is part of its identity and
picks the backend that builds it.

Builds are atomic and shared safely:

* a per-environment file lock serialises builders across threads and across
  harness processes sharing the cache (the OS drops the lock if a builder dies);
* a completion marker is written last, so an environment without one (a build
  that was killed half way) is deleted and rebuilt, never used;
* venvs are not relocatable, so they are built in place, under the lock.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from harness.atomic import write_text_atomic
from harness.clock import utc_now
from harness.envs.backends import Backend
from harness.envs.index_config import IndexConfig
from harness.envs.interpreters import Interpreter
from harness.errors import EnvironmentBuildError

#: Bump when the layout of a cached environment changes: old ones are rebuilt.
ENV_FORMAT = 1
MARKER = ".harness-env.json"
LOCK_WAIT_S = 1800.0


@dataclass(frozen=True)
class EnvSpec:
    """Everything that determines an environment's contents."""

    package: str
    version: Version
    interpreter: Interpreter
    backend: str
    extras: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()
    exclude_newer: str | None = None
    #: The user's other pins (a gate), given to the installer as constraints.
    constraints: tuple[str, ...] = ()
    #: The platform the environment is built for when it is not the host (windows-wine).
    target: str | None = None

    def requirement(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.package}{extras}=={self.version}"

    def requirements(self) -> list[str]:
        return [self.requirement(), *self.pins]

    def key(self) -> str:
        fields: dict[str, object] = {
            "format": ENV_FORMAT,
            "requirements": self.requirements(),
            "python": str(self.interpreter.version),
            "python_path": str(self.interpreter.path),
            "backend": self.backend,
            "exclude_newer": self.exclude_newer,
        }
        if self.constraints:  # plain environments keep the keys they always had
            fields["constraints"] = list(self.constraints)
        if self.target is not None:  # host environments keep the keys they always had
            fields["target"] = self.target
        identity = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(identity.encode()).hexdigest()[:12]

    def dirname(self) -> str:
        safe_package = re.sub(r"[^A-Za-z0-9_.]+", "_", self.package)
        return (
            f"{safe_package}-{self.version}-py{self.interpreter.minor}-{self.backend}-{self.key()}"
        )


@dataclass(frozen=True)
class BuiltEnv:
    spec: EnvSpec
    path: Path
    python: Path
    resolved: Mapping[str, str] = field(default_factory=dict)
    build_s: float = 0.0
    reused: bool = False
    python_full: str | None = None


def installed_distributions(env_dir: Path) -> dict[str, str]:
    """name -> version of what is installed, read from the `.dist-info` folders."""
    found: dict[str, str] = {}
    patterns = ("lib/python*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info")
    for pattern in patterns:
        for dist_info in env_dir.glob(pattern):
            match = re.match(r"^(.+?)-([^-]+)\.dist-info$", dist_info.name)
            if match:
                found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return dict(sorted(found.items()))


class EnvCache:
    """Builds environments on demand and reuses complete ones."""

    def __init__(
        self,
        cache_dir: Path,
        backend: Backend,
        index: IndexConfig,
        cancel: threading.Event | None = None,
        target_backends: Mapping[str, Backend] | None = None,
    ) -> None:
        self.root = cache_dir / "envs"
        self.backend = backend
        self.target_backends = dict(target_backends or {})
        self.index = index
        self.cancel = cancel or threading.Event()
        self._thread_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def backend_for(self, target: str | None) -> Backend:
        """The backend that builds environments for `target` (None: the host)."""
        if target is None:
            return self.backend
        return self.target_backends[target]

    def path_for(self, spec: EnvSpec) -> Path:
        return self.root / spec.dirname()

    def _thread_lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(name, threading.Lock())

    def lookup(self, spec: EnvSpec) -> BuiltEnv | None:
        """A complete cached environment for `spec`, without building anything."""
        env_dir = self.path_for(spec)
        marker = env_dir / MARKER
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        python = self.backend_for(spec.target).python_path(env_dir)
        if data.get("format") != ENV_FORMAT or not python.exists():
            return None
        return BuiltEnv(
            spec=spec,
            path=env_dir,
            python=python,
            resolved=data.get("resolved", {}),
            build_s=float(data.get("build_s", 0.0)),
            reused=True,
            python_full=data.get("python_full"),
        )

    def remove_half_built(self) -> list[str]:
        """Delete environments whose build was interrupted (no marker, lock free).

        A folder without a completion marker is either being built right now (its
        lock is held, by us or by another run sharing the cache) or left by a build
        that was killed; only the latter is removed.  Returns the names removed.
        """
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for env_dir in sorted(self.root.iterdir()):
            if not env_dir.is_dir() or (env_dir / MARKER).exists():
                continue
            from filelock import FileLock, Timeout  # only needed when building

            lock = FileLock(str(self.root / f"{env_dir.name}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # a build in progress
            try:
                if env_dir.is_dir() and not (env_dir / MARKER).exists():
                    shutil.rmtree(env_dir, ignore_errors=True)
                    removed.append(env_dir.name)
            finally:
                lock.release()
        return removed

    def ensure(self, spec: EnvSpec) -> BuiltEnv:
        """Return a complete environment for `spec`, building it if needed."""
        cached = self.lookup(spec)
        if cached is not None:
            return cached
        name = spec.dirname()
        self.root.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock, Timeout  # imported here: warm runs never build

        with self._thread_lock(name):
            lock = FileLock(str(self.root / f"{name}.lock"))
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                if self.cancel.is_set():
                    raise EnvironmentBuildError("interrupted while waiting for the build lock")
                try:
                    lock.acquire(timeout=0.5)
                    break
                except Timeout:
                    if time.monotonic() > deadline:
                        raise EnvironmentBuildError(
                            f"waited {LOCK_WAIT_S:.0f}s for another run building {name}"
                        ) from None
            try:
                cached = self.lookup(spec)
                if cached is not None:
                    return cached
                return self._build(spec)
            finally:
                lock.release()

    def _build(self, spec: EnvSpec) -> BuiltEnv:
        env_dir = self.path_for(spec)
        if env_dir.exists():
            shutil.rmtree(env_dir, ignore_errors=True)  # half-built: never reuse
        started = time.monotonic()
        backend = self.backend_for(spec.target)
        try:
            backend.create(env_dir, spec.interpreter, self.index)
            backend.install(
                env_dir, spec.requirements(), self.index, spec.exclude_newer, spec.constraints
            )
            python_full = backend.python_version(env_dir, spec.interpreter)
        except OSError as exc:  # e.g. the disk is full: a build error saying so
            shutil.rmtree(env_dir, ignore_errors=True)
            raise EnvironmentBuildError(f"building {env_dir.name}: {exc}") from None
        except BaseException:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise
        build_s = time.monotonic() - started
        resolved = installed_distributions(env_dir)
        marker = {
            "format": ENV_FORMAT,
            "requirements": spec.requirements(),
            "python": str(spec.interpreter.version),
            "python_full": python_full,
            "target": spec.target,
            "backend": spec.backend,
            "exclude_newer": spec.exclude_newer,
            "constraints": list(spec.constraints),
            "resolved": resolved,
            "build_s": round(build_s, 3),
            "built_at": utc_now(),
        }
        try:
            write_text_atomic(env_dir / MARKER, json.dumps(marker, indent=1))
        except OSError as exc:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise EnvironmentBuildError(f"completing {env_dir.name}: {exc}") from None
        return BuiltEnv(
            spec=spec,
            path=env_dir,
            python=backend.python_path(env_dir),
            resolved=resolved,
            build_s=build_s,
            reused=False,
            python_full=python_full,
        )
