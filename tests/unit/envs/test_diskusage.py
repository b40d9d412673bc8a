"""Disk usage of the cache: hard-linked files counted once, shared bytes named."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.envs.cache import MARKER
from harness.envs.diskusage import human, measure


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_hard_links_are_counted_once_and_attributed(tmp_path: Path) -> None:
    cache, installer = tmp_path / "cache", tmp_path / "uv-cache"
    wheel_file = _file(installer / "archive" / "uvicorn" / "main.py", 40_000)
    shared_by_envs = _file(tmp_path / "scratch" / "shared.py", 20_000)
    for name in ("a", "b"):
        env = cache / "envs" / name
        _file(env / "own.pyc", 8_000 if name == "a" else 12_000)
        (env / "site").mkdir(parents=True)
        os.link(wheel_file, env / "site" / "main.py")  # from the installer's cache
        os.link(shared_by_envs, env / "site" / "shared.py")  # only between the two envs
        (env / MARKER).write_text(json.dumps({"requirements": [f"pkg=={name}"], "python": "3.12"}))
    shared_by_envs.unlink()  # now linked from the two environments only
    _file(cache / "cells" / "scenario" / "entry.json", 1_000)
    _file(cache / "interpreters.json", 500)

    usage = measure(cache)

    by_name = {env.name: env for env in usage.environments}
    a = by_name["a"].usage
    assert a.files == 4  # own.pyc, main.py, shared.py, the marker
    assert a.own_bytes < a.bytes
    assert a.installer_shared_bytes >= 40_000 and by_name["a"].requirements == ["pkg==a"]
    envs = usage.parts["envs"]
    # Each inode once: main.py and shared.py are not counted twice.
    assert envs.files == 2 + 2 + 2
    alone = sum(env.usage.bytes for env in usage.environments)
    assert envs.bytes < alone
    assert usage.total.files == envs.files + 1 + 1
    # Deleting the cache frees everything but what the installer's cache also holds.
    assert usage.total.installer_shared_bytes == usage.parts["envs"].installer_shared_bytes
    assert usage.total.own_bytes == usage.total.bytes - usage.total.installer_shared_bytes
    assert usage.parts["other"].files == 1
    assert json.loads(json.dumps(usage.to_json()))["total"]["files"] == usage.total.files


def test_a_missing_cache_is_empty(tmp_path: Path) -> None:
    usage = measure(tmp_path / "nowhere")
    assert usage.total.files == 0 and not usage.environments


def test_sizes_read_naturally() -> None:
    assert human(0) == "0 B"
    assert human(1536) == "1.5 KiB"
    assert human(5 * 2**20) == "5.0 MiB"
    assert human(3 * 2**30) == "3.0 GiB"
    assert human(472 * 1024) == "472 KiB"  # three digits: no decimal, so tables stay narrow
