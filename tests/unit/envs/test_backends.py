"""uv installs from its own cache first, and asks the index only for what it lacks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.envs.backends import OFFLINE_NOTE, UvBackend
from harness.envs.index_config import IndexConfig
from harness.errors import EnvironmentBuildError


def fake_uv(tmp_path: Path, cached: bool) -> tuple[Path, Path]:
    """A `uv` that logs its arguments; with --offline it fails unless `cached`."""
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "uv"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"if '--offline' in sys.argv and not {cached!r}:\n"
        "    print('Because uvicorn was not found in the cache ...'); sys.exit(1)\n"
    )
    script.chmod(0o755)
    return script, log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_cached_release_is_installed_without_asking_the_index(tmp_path: Path) -> None:
    uv, log = fake_uv(tmp_path, cached=True)
    UvBackend(uv).install(tmp_path / "env", ["uvicorn==0.30.6"], IndexConfig())
    (only,) = calls(log)
    assert "--offline" in only and only[-2:] == ["--", "uvicorn==0.30.6"]


def test_what_the_cache_lacks_is_installed_from_the_index(tmp_path: Path) -> None:
    uv, log = fake_uv(tmp_path, cached=False)
    UvBackend(uv).install(tmp_path / "env", ["uvicorn==0.30.6"], IndexConfig())
    first, second = calls(log)
    assert "--offline" in first and "--offline" not in second
    assert first[first.index("--") :] == second[second.index("--") :]


def test_offline_runs_never_ask_the_index(tmp_path: Path) -> None:
    uv, log = fake_uv(tmp_path, cached=False)
    with pytest.raises(EnvironmentBuildError, match=OFFLINE_NOTE):
        UvBackend(uv, offline=True).install(tmp_path / "env", ["uvicorn==0.30.6"], IndexConfig())
    assert len(calls(log)) == 1
