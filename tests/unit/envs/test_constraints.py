"""The user's pins reach the installer as constraints and are part of an environment's identity."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from packaging.version import Version

from harness.envs.backends import constraints_file
from harness.envs.cache import ENV_FORMAT, EnvCache, EnvSpec
from harness.envs.index_config import IndexConfig
from harness.envs.interpreters import Interpreter

PY38 = Interpreter(Path("/opt/py3.8/bin/python"), Version("3.8.18"))


def spec(constraints: tuple[str, ...] = ()) -> EnvSpec:
    return EnvSpec("uvicorn", Version("0.14.0"), PY38, "uv", constraints=constraints)


def test_constraints_file_holds_the_pins_only_while_installing() -> None:
    with constraints_file(["h11==0.12.0", 'click<8; python_version < "3.8"']) as args:
        assert args[0] == "-c"
        path = Path(args[1])
        assert path.read_text(encoding="utf-8").splitlines() == [
            "h11==0.12.0",
            'click<8; python_version < "3.8"',
        ]
    assert not path.exists()
    with constraints_file([]) as args:
        assert args == []


def test_constraints_change_the_environment_and_plain_keys_do_not_move() -> None:
    plain = spec()
    legacy = json.dumps(
        {
            "format": ENV_FORMAT,
            "requirements": ["uvicorn==0.14.0"],
            "python": "3.8.18",
            "python_path": str(PY38.path),
            "backend": "uv",
            "exclude_newer": None,
        },
        sort_keys=True,
    )
    assert plain.key() == hashlib.sha256(legacy.encode()).hexdigest()[:12]
    pinned = spec(("h11==0.12.0",))
    assert pinned.key() != plain.key()
    assert pinned.dirname() != plain.dirname()
    assert spec(("h11==0.13.0",)).key() != pinned.key()


class RecordingBackend:
    """Creates a fake venv and records what it was asked to install."""

    name = "uv"

    def __init__(self) -> None:
        self.installs: list[tuple[list[str], list[str]]] = []

    def python_path(self, env_dir: Path) -> Path:
        return env_dir / "bin" / "python"

    def python_version(self, env_dir: Path, interpreter: Interpreter) -> str:
        return str(interpreter.version)

    def create(self, env_dir: Path, interpreter: Interpreter, index: IndexConfig) -> None:
        (env_dir / "bin").mkdir(parents=True)
        (env_dir / "bin" / "python").write_text("")

    def install(
        self,
        env_dir: Path,
        requirements: Sequence[str],
        index: IndexConfig,
        exclude_newer: str | None = None,
        constraints: Sequence[str] = (),
    ) -> None:
        self.installs.append((list(requirements), list(constraints)))


def test_the_cache_hands_constraints_to_the_backend(tmp_path: Path) -> None:
    backend = RecordingBackend()
    cache = EnvCache(tmp_path, backend, IndexConfig())
    built = cache.ensure(spec(("h11==0.12.0",)))
    assert backend.installs == [(["uvicorn==0.14.0"], ["h11==0.12.0"])]
    marker = json.loads((built.path / ".harness-env.json").read_text())
    assert marker["constraints"] == ["h11==0.12.0"]
    cache.ensure(spec())
    assert backend.installs[-1] == (["uvicorn==0.14.0"], [])
    assert len(list((tmp_path / "envs").iterdir())) >= 2
