"""Writes that a crash cannot truncate, and no other kind of write in the harness."""

from __future__ import annotations

import ast
import json
import os
import time
from pathlib import Path

import pytest

from harness.atomic import STALE_TEMP_S, write_text_atomic
from tests.conftest import ROOT


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    write_text_atomic(target, json.dumps({"generation": 1}))
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, '{"generation": 2, "bad": "\udcff"}')  # fails mid-write
    assert json.loads(target.read_text()) == {"generation": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_the_new_content_replaces_the_old_whole(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "results.json"
    write_text_atomic(target, "old")
    write_text_atomic(target, "new", durable=False)
    assert target.read_text() == "new"


def test_temps_of_killed_writers_are_removed_once_stale(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    stale = tmp_path / ".results.json.dead1234.tmp"
    fresh = tmp_path / ".results.json.live5678.tmp"
    for leftover in (stale, fresh):
        leftover.write_text('{"half')
    os.utime(stale, (time.time() - STALE_TEMP_S - 60,) * 2)
    write_text_atomic(target, "{}")
    assert not stale.exists()
    assert fresh.exists()  # may belong to a writer still at work


WRITERS = {"write_text", "write_bytes"}


def _writes_directly(node: ast.AST) -> bool:
    """`path.write_text(...)`, `path.write_bytes(...)`, or `open(..., "w"/"a"/"x")`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in WRITERS:
        return True
    is_open = (isinstance(func, ast.Name) and func.id == "open") or (
        isinstance(func, ast.Attribute) and func.attr == "open"
    )
    if not is_open:
        return False
    modes = [a for a in node.args[1:2]] + [k.value for k in node.keywords if k.arg == "mode"]
    return any(
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and set("wax") & set(mode.value)
        for mode in modes
    )


def test_the_harness_writes_files_only_atomically() -> None:
    """Results, reports, markers and caches go through `harness.atomic` (temp + rename)."""
    offenders = []
    for source in sorted((ROOT / "harness").rglob("*.py")):
        if source.name == "atomic.py":
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if _writes_directly(node):
                offenders.append(f"{source.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}")
    assert not offenders, f"write through harness.atomic.write_text_atomic instead: {offenders}"
