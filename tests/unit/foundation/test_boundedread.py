"""Reading other people's files: regular files of bounded size only (harness.boundedread)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.boundedread import FileRefused, read_bytes, read_text


def test_a_regular_file_within_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bytes(path, 10) == b"x" * 10
    assert read_text(path, 10) == "x" * 10


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileRefused, match="larger than"):
        read_bytes(path, 10)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "odd"
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would block until a writer came
    elif kind == "device":
        path.symlink_to("/dev/zero")  # reading it would never end
    else:
        path.mkdir()
    with pytest.raises(FileRefused, match="not a regular file"):
        read_bytes(path, 1024)


def test_missing_files_and_bad_text_raise_what_open_would(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bytes(tmp_path / "missing", 10)
    (tmp_path / "latin").write_bytes(b"\xff")
    with pytest.raises(UnicodeDecodeError):
        read_text(tmp_path / "latin", 10)
