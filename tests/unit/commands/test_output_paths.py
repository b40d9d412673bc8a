"""Output paths checked before any work, results rescued after (harness.commands.output_paths)."""

from __future__ import annotations

import errno
import json
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from harness.commands import output_paths
from harness.errors import InfrastructureError, UsageError
from harness.results import RunResults

Usage = namedtuple("Usage", "total used free")


def test_good_outputs_pass(tmp_path: Path) -> None:
    output_paths.check_outputs(
        {"--json": tmp_path / "new" / "r.json", "--html": tmp_path / "i.html", "--junit": None}
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: p.parent.joinpath("f").write_text("x"), "is a file, not a folder"),
    ],
)
def test_bad_outputs_are_usage_errors(tmp_path: Path, make: object, message: str) -> None:
    target = tmp_path / "out"
    make(target)  # type: ignore[operator]
    path = target if "folder, not" in message else tmp_path / "f" / "out.json"
    with pytest.raises(UsageError, match=message):
        output_paths.check_outputs({"--json": path})


def test_the_same_file_twice_and_an_input_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    with pytest.raises(UsageError, match="--json and --html name the same file"):
        output_paths.check_outputs({"--json": path, "--html": tmp_path / "." / "a.json"})
    path.write_text("{}")
    with pytest.raises(UsageError, match="is also an input"):
        output_paths.check_outputs({"--html": path}, inputs=[path])


def test_no_room_is_an_infrastructure_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10, 10, 1024))
    with pytest.raises(InfrastructureError, match="only 1 KiB free"):
        output_paths.check_outputs({"--json": tmp_path / "r.json"})
    with pytest.raises(InfrastructureError, match="--cache-dir"):
        output_paths.check_cache_dir(tmp_path / "cache")


def test_a_cache_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        output_paths.check_cache_dir(tmp_path / "cache")


def test_results_that_cannot_go_where_asked_go_next_to_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = tmp_path / "out" / "r.json"
    real_write = output_paths.write_results

    def full_disk(path: Path, results: RunResults) -> None:
        if path == asked:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, results)

    monkeypatch.setattr(output_paths, "write_results", full_disk)
    where, problem = output_paths.save_results(asked, RunResults([], run_id="r1"), tmp_path)
    assert where == tmp_path / output_paths.RESCUE_DIR / "r1.json"
    assert json.loads(where.read_text())["run_id"] == "r1"
    assert isinstance(problem, InfrastructureError)
    assert f"the results were written to {where} instead" in str(problem)


def test_when_neither_place_works_both_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: Path, results: RunResults) -> None:
        raise OSError(errno.ENOTDIR, "Not a directory")

    monkeypatch.setattr(output_paths, "write_results", denied)
    with pytest.raises(UsageError, match=r"nor .*rescued-results"):
        output_paths.save_results(tmp_path / "r.json", RunResults([]), tmp_path)
