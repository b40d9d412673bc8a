"""The cell cache: keyed by what was run, atomic, and never stale on a changed scenario."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path

from packaging.version import Version

from harness.engine.cellcache import CellCache
from harness.envs.cache import EnvSpec
from harness.envs.interpreters import Interpreter
from harness.results import CellResult
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT, SCENARIOS

PYTHON = Interpreter(Path("/opt/python3.8/bin/python3"), Version("3.8.18"))


def spec(version: str = "0.13.4", backend: str = "uv") -> EnvSpec:
    return EnvSpec("uvicorn", Version(version), PYTHON, backend)


def result(version: str = "0.13.4", outcome: str = "known-failure") -> CellResult:
    return CellResult(
        scenario="port-zero-startup", package="uvicorn", version=version, python="3.8",
        platform="linux", outcome=outcome, expected=True, reason="why",
        signature="port0-getpeername-enotconn" if outcome == "known-failure" else None,
        output_tail="OSError: [Errno 107] Transport endpoint is not connected",
        resolved={"uvicorn": version, "h11": "0.12.0"},
    )  # fmt: skip


def copied_scenario(tmp_path: Path) -> Path:
    """The port-zero scenario and its app, copied where the test may change them."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = folder / "port-zero-startup.toml"
    shutil.copy(SCENARIOS / "port-zero-startup.toml", path)
    (tmp_path / "server").mkdir()
    shutil.copy(ROOT / "server" / "hello.py", tmp_path / "server" / "hello.py")
    return path


def test_round_trip_marks_the_reused_observation(tmp_path: Path) -> None:
    scenario = load_scenario(copied_scenario(tmp_path))
    cache = CellCache(tmp_path / "cache")
    assert cache.lookup(scenario, spec(), "linux") is None
    assert cache.store(scenario, spec(), result())
    hit = cache.lookup(scenario, spec(), "linux")
    assert hit is not None
    assert hit.from_cell_cache is not None and hit.from_cell_cache.endswith("Z")
    assert dataclasses.replace(hit, from_cell_cache=None) == result()


def test_identity_covers_version_backend_platform_and_python(tmp_path: Path) -> None:
    scenario = load_scenario(copied_scenario(tmp_path))
    cache = CellCache(tmp_path / "cache")
    cache.store(scenario, spec(), result())
    assert cache.lookup(scenario, spec("0.14.0"), "linux") is None
    assert cache.lookup(scenario, spec(backend="virtualenv"), "linux") is None
    assert cache.lookup(scenario, spec(), "macos") is None
    patch_release = Interpreter(PYTHON.path, Version("3.8.17"))
    other_python = EnvSpec("uvicorn", Version("0.13.4"), patch_release, "uv")
    assert cache.lookup(scenario, other_python, "linux") is None


def test_a_changed_scenario_or_app_is_not_answered_from_old_observations(tmp_path: Path) -> None:
    path = copied_scenario(tmp_path)
    scenario = load_scenario(path)
    cache = CellCache(tmp_path / "cache")
    cache.store(scenario, spec(), result())
    path.write_text(path.read_text().replace("ready_s = 20", "ready_s = 21"))
    assert cache.lookup(load_scenario(path), spec(), "linux") is None
    # The app the scenario serves is part of what was run, too.
    path.write_text(path.read_text().replace("ready_s = 21", "ready_s = 20"))
    assert cache.lookup(load_scenario(path), spec(), "linux") is not None
    app = scenario.server.app_dir / "hello.py"
    assert app.parent == tmp_path / "server"
    app.write_text(app.read_text() + "\n# changed\n")
    assert cache.lookup(load_scenario(path), spec(), "linux") is None


def test_an_environment_rebuilt_with_other_versions_is_not_reused(tmp_path: Path) -> None:
    scenario = load_scenario(copied_scenario(tmp_path))
    cache = CellCache(tmp_path / "cache")
    cache.store(scenario, spec(), result())
    same = {"uvicorn": "0.13.4", "h11": "0.12.0"}
    assert cache.lookup(scenario, spec(), "linux", resolved_now=same) is not None
    newer = {"uvicorn": "0.13.4", "h11": "0.14.0"}
    assert cache.lookup(scenario, spec(), "linux", resolved_now=newer) is None


def test_only_real_observations_are_kept(tmp_path: Path) -> None:
    scenario = load_scenario(copied_scenario(tmp_path))
    cache = CellCache(tmp_path / "cache")
    assert not cache.store(scenario, spec(), result(outcome="install-error"))
    assert not cache.store(scenario, spec(), result(outcome="skip"))
    reused = dataclasses.replace(result(), from_cell_cache="2026-01-01T00:00:00Z")
    assert not cache.store(scenario, spec(), reused), "a reused result is not re-stamped"
    assert cache.lookup(scenario, spec(), "linux") is None


def test_corrupt_entries_are_ignored(tmp_path: Path) -> None:
    scenario = load_scenario(copied_scenario(tmp_path))
    cache = CellCache(tmp_path / "cache")
    cache.store(scenario, spec(), result())
    (entry,) = (tmp_path / "cache" / "cells" / "port-zero-startup").glob("*.json")
    entry.write_text('{"identity": ')
    assert cache.lookup(scenario, spec(), "linux") is None


def test_concurrent_writers_leave_one_whole_entry(tmp_path: Path) -> None:
    scenario = load_scenario(copied_scenario(tmp_path))
    caches = [CellCache(tmp_path / "cache") for _ in range(8)]
    barrier = threading.Barrier(len(caches))

    def write(cache: CellCache) -> None:
        barrier.wait()
        for _ in range(20):
            cache.store(scenario, spec(), result())

    threads = [threading.Thread(target=write, args=(cache,)) for cache in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    folder = tmp_path / "cache" / "cells" / "port-zero-startup"
    assert len(list(folder.glob("*.json"))) == 1
    assert not list(folder.glob(".*.tmp")), "no temporary file is left behind"
    assert caches[0].lookup(scenario, spec(), "linux") is not None
