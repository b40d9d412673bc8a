"""Environment backends: uv (fast path) and virtualenv + pip (the classic path).

Both create a venv for a given interpreter and install requirements into it
with the user's index configuration.  Both cope with what old releases need:

* the newest virtualenv no longer seeds pip for Python 3.8 and older, so the
  virtualenv backend creates an unseeded venv and seeds it with the target
  interpreter's own `ensurepip`;
* pip 24.1 and newer refuse the metadata of some old releases (uvicorn 0.12.3,
  0.14.0), so the pip in every virtualenv environment is held below 24.1.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

from harness.envs.index_config import IndexConfig
from harness.envs.interpreters import Interpreter
from harness.errors import BackendUnavailableError, EnvironmentBuildError
from harness.procs.registry import run_captured

INSTALL_TIMEOUT_S = 900.0
#: Newest pip that still accepts the legacy metadata of old releases.
PIP_LEGACY_METADATA = "pip<24.1"
_TAIL_LINES = 25
#: Said of a failed install under --offline; the pipeline counts it as infrastructure.
OFFLINE_NOTE = "offline: only cached packages"


def venv_python(env_dir: Path) -> Path:
    if sys.platform == "win32":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def tail(text: str, lines: int = _TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def installer_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment installers run with: the user's, minus venv leakage."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "CONDA_PREFIX", "UV_PYTHON"):
        env.pop(name, None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if extra:
        env.update(extra)
    return env


class Backend(Protocol):
    name: str

    def python_path(self, env_dir: Path) -> Path:
        """The interpreter of an environment this backend built."""
        ...

    def python_version(self, env_dir: Path, interpreter: Interpreter) -> str:
        """The exact Python version of a built environment (for the results)."""
        ...

    def create(self, env_dir: Path, interpreter: Interpreter, index: IndexConfig) -> None: ...

    def install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        exclude_newer: str | None = None,
        constraints: Sequence[str] = (),
    ) -> None: ...


@contextlib.contextmanager
def constraints_file(constraints: Sequence[str]) -> Iterator[list[str]]:
    """`["-c", FILE]` for an installer while the block runs (`[]` without constraints).

    The user's pins go to the installer as constraints: they fix a package's
    version only if something pulls that package in (uv and pip agree on this).
    """
    if not constraints:
        yield []
        return
    handle, name = tempfile.mkstemp(prefix="harness-constraints-", suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(constraints) + "\n")
        yield ["-c", name]
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _fail(step: str, code: int, output: str) -> EnvironmentBuildError:
    last = tail(output)
    reason = next(
        (line.strip() for line in reversed(last.splitlines()) if line.strip()), f"exit {code}"
    )
    return EnvironmentBuildError(f"{step} failed: {reason}", last)


def find_uv() -> Path | None:
    """The `uv` binary: the one installed with the harness, else PATH."""
    try:
        from uv import find_uv_bin

        return Path(find_uv_bin())
    except (ImportError, FileNotFoundError):
        located = shutil.which("uv")
        return Path(located) if located else None


class UvBackend:
    name = "uv"

    def __init__(self, uv_bin: Path | None = None, offline: bool = False) -> None:
        located = uv_bin or find_uv()
        if located is None:
            raise BackendUnavailableError("backend 'uv' requested but no uv binary was found")
        self.uv_bin = located
        self.offline = offline

    def python_path(self, env_dir: Path) -> Path:
        return venv_python(env_dir)

    def python_version(self, env_dir: Path, interpreter: Interpreter) -> str:
        return str(interpreter.version)

    def create(self, env_dir: Path, interpreter: Interpreter, index: IndexConfig) -> None:
        argv = [str(self.uv_bin), "venv", "--quiet", "--no-project", "--python"]
        argv += [str(interpreter.path), str(env_dir)]
        code, output = run_captured(argv, timeout_s=120, env=installer_env())
        if code != 0:
            raise _fail("uv venv", code, output)

    def install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        exclude_newer: str | None = None,
        constraints: Sequence[str] = (),
    ) -> None:
        argv = [str(self.uv_bin), "pip", "install", "--python", str(venv_python(env_dir))]
        argv += index.uv_args()
        if exclude_newer:
            argv += ["--exclude-newer", exclude_newer]
        with constraints_file(constraints) as constraint_args:
            wanted = [*constraint_args, "--", *requirements]
            # uv's own cache first (no index, no downloads): uv would otherwise ask the
            # index again about every package whose page it cached over 10 minutes ago,
            # for each environment.  What the cache cannot satisfy (a release never
            # installed here) fails at resolution, before the environment is touched,
            # and is then installed with the index.  --offline stops there.
            code, output = run_captured(
                [*argv, "--offline", *wanted], timeout_s=INSTALL_TIMEOUT_S, env=installer_env()
            )
            if code != 0 and not self.offline:
                code, output = run_captured(
                    [*argv, *wanted], timeout_s=INSTALL_TIMEOUT_S, env=installer_env()
                )
        if code != 0:
            step = f"uv pip install ({OFFLINE_NOTE})" if self.offline else "uv pip install"
            raise _fail(step, code, output)


class VirtualenvBackend:
    name = "virtualenv"

    def __init__(self, offline: bool = False) -> None:
        self.offline = offline
        try:
            import virtualenv  # noqa: F401
        except ImportError:
            raise BackendUnavailableError(
                "backend 'virtualenv' requested but virtualenv is not installed"
            ) from None

    def python_path(self, env_dir: Path) -> Path:
        return venv_python(env_dir)

    def python_version(self, env_dir: Path, interpreter: Interpreter) -> str:
        return str(interpreter.version)

    def create(self, env_dir: Path, interpreter: Interpreter, index: IndexConfig) -> None:
        argv = [sys.executable, "-m", "virtualenv", "--quiet", "--no-seed", "--no-periodic-update"]
        argv += ["-p", str(interpreter.path), str(env_dir)]
        code, output = run_captured(argv, timeout_s=120, env=installer_env())
        if code != 0:
            raise _fail("virtualenv", code, output)
        python = str(venv_python(env_dir))
        code, output = run_captured(
            [python, "-m", "ensurepip", "--default-pip"], timeout_s=180, env=installer_env()
        )
        if code != 0:
            raise _fail(
                f"seeding pip with ensurepip of Python {interpreter.version} "
                "(this interpreter may lack ensurepip; try --backend uv)",
                code,
                output,
            )
        pip_version = self._pip_version(env_dir)
        if pip_version is None or pip_version >= Version("24.1"):
            self._pip_install(env_dir, [PIP_LEGACY_METADATA], index, timeout_s=300)

    def _pip_version(self, env_dir: Path) -> Version | None:
        site = list(env_dir.glob("lib/python*/site-packages/pip-*.dist-info"))
        site += list(env_dir.glob("Lib/site-packages/pip-*.dist-info"))
        for dist_info in site:
            match = re.match(r"pip-(.+)\.dist-info$", dist_info.name)
            if match:
                try:
                    return Version(match.group(1))
                except InvalidVersion:
                    return None
        return None

    def _pip_install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        timeout_s: float,
        constraints: Sequence[str] = (),
    ) -> None:
        argv = [str(venv_python(env_dir)), "-m", "pip", "install", "--quiet"]
        if self.offline:
            # pip has no offline cache lookup: only local find-links can serve.
            argv += ["--no-index", *(f"--find-links={link}" for link in index.find_links)]
        elif index.origin != "default":
            argv += index.pip_args()
        with constraints_file(constraints) as constraint_args:
            argv += [*constraint_args, "--", *requirements]
            code, output = run_captured(argv, timeout_s=timeout_s, env=installer_env())
        if code != 0:
            step = f"pip install ({OFFLINE_NOTE})" if self.offline else "pip install"
            raise _fail(step, code, output)

    def install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        exclude_newer: str | None = None,
        constraints: Sequence[str] = (),
    ) -> None:
        if exclude_newer:
            raise EnvironmentBuildError(
                "resolution as of a release date needs --backend uv (pip has no --exclude-newer)"
            )
        self._pip_install(env_dir, requirements, index, INSTALL_TIMEOUT_S, constraints)


def make_backend(name: str, offline: bool = False) -> Backend:
    """`offline`: install only from local caches (uv's cache; pip's find-links)."""
    if name == "uv":
        return UvBackend(offline=offline)
    if name == "virtualenv":
        return VirtualenvBackend(offline=offline)
    raise BackendUnavailableError(f"unknown backend {name!r} (choose uv or virtualenv)")
