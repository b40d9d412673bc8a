"""Reading the user's dependency set: requirements files, pyproject.toml, uv.lock."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.version import Version

from harness.analyses.userdeps import (
    DependencyFileError,
    Pin,
    parse_pin,
    read_pyproject,
    read_requirements,
    read_uv_lock,
)
from harness.errors import UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_parse_pin_accepts_one_exact_release_with_extras() -> None:
    assert parse_pin("uvicorn==0.14.0", "--candidate") == Pin("uvicorn", Version("0.14.0"))
    pin = parse_pin("Uvicorn[standard]==0.14.0", "--candidate")
    assert pin == Pin("uvicorn", Version("0.14.0"), ("standard",))
    assert str(pin) == "uvicorn[standard]==0.14.0"


@pytest.mark.parametrize("text", ["uvicorn", "uvicorn>=0.14", "uvicorn==0.14.*", "uvicorn==1,!=2"])
def test_parse_pin_refuses_anything_but_one_release(text: str) -> None:
    with pytest.raises(UsageError, match="must pin one release exactly"):
        parse_pin(text, "--candidate")


def test_parse_pin_refuses_garbage() -> None:
    with pytest.raises(UsageError, match=r"--candidate: 'uvicorn=0\.14' is not a requirement"):
        parse_pin("uvicorn=0.14", "--candidate")


def test_requirements_pin_and_constraints(tmp_path: Path) -> None:
    path = write(
        tmp_path / "requirements.txt",
        """
        # the app's pins
        uvicorn==0.13.3   # the server
        h11==0.12.0
        click>=7,<8 ; python_version >= "3.8"
        httpx          # no version: not a constraint
        """,
    )
    deps = read_requirements(path)
    assert deps.pinned("uvicorn") == Pin("uvicorn", Version("0.13.3"))
    assert deps.constraints("uvicorn") == ["h11==0.12.0", 'click<8,>=7; python_version >= "3.8"']
    assert deps.pinned("starlette") is None


def test_requirements_includes_continuations_hashes_and_options(tmp_path: Path) -> None:
    write(tmp_path / "base" / "common.txt", "websockets==8.1\n-c ../constraints.txt\n")
    write(tmp_path / "constraints.txt", "httptools==0.1.1\n")
    path = write(
        tmp_path / "requirements.txt",
        """
        --index-url https://example.invalid/simple
        -r base/common.txt
        uvicorn[standard]==0.13.3 \\
            --hash=sha256:aaaa \\
            --hash=sha256:bbbb
        -e ./local-package
        ./wheels/thing-1.0-py3-none-any.whl
        h11 == 0.12.0
        """,
    )
    deps = read_requirements(path)
    assert deps.pinned("uvicorn") == Pin("uvicorn", Version("0.13.3"), ("standard",))
    assert deps.constraints("uvicorn") == ["websockets==8.1", "httptools==0.1.1", "h11==0.12.0"]
    notes = "\n".join(deps.notes)
    assert "option --index-url ignored" in notes
    assert "editable requirement './local-package' left out" in notes
    assert "thing-1.0" in notes
    sources = [found.source for found in deps.requirements]
    assert sources[0].endswith("common.txt:1") and sources[1].endswith("constraints.txt:1")


def test_requirements_include_cycle_is_read_once(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "-r b.txt\nuvicorn==0.14.0\n")
    write(tmp_path / "b.txt", "-r a.txt\nh11==0.12.0\n")
    deps = read_requirements(tmp_path / "a.txt")
    assert deps.constraints("uvicorn") == ["h11==0.12.0"]


def test_requirements_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "requirements.txt", "uvicorn==0.13.3\nthis is not valid\n")
    with pytest.raises(DependencyFileError, match=r"requirements.txt:2: not a requirement"):
        read_requirements(path)
    with pytest.raises(DependencyFileError, match=r"missing.txt: cannot read"):
        read_requirements(tmp_path / "missing.txt")
    bad = write(tmp_path / "opt.txt", "--frobnicate\n")
    with pytest.raises(DependencyFileError, match=r"opt.txt:1: unknown option '--frobnicate'"):
        read_requirements(bad)


def test_loose_or_double_pin_is_refused(tmp_path: Path) -> None:
    loose = read_requirements(write(tmp_path / "loose.txt", "uvicorn>=0.13\n"))
    with pytest.raises(DependencyFileError, match="does not pin one release of uvicorn"):
        loose.pinned("uvicorn")
    double = read_requirements(write(tmp_path / "double.txt", "uvicorn==0.13\nuvicorn==0.14\n"))
    with pytest.raises(DependencyFileError, match="pinned to several versions"):
        double.pinned("uvicorn")


def test_constraints_drop_extras_and_duplicates(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "httpx[http2]==0.24.0\nhttpx==0.24.0\nuvicorn==0.14.0\n")
    assert read_requirements(path).constraints("uvicorn") == ["httpx==0.24.0"]


def test_pyproject_dependencies_and_groups(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "app"
        version = "1"
        dependencies = ["uvicorn[standard]==0.13.3", "h11==0.12.0"]

        [project.optional-dependencies]
        prod = ["uvloop==0.14.0"]

        [dependency-groups]
        ops = ["httptools==0.1.1", {include-group = "web"}]
        web = ["websockets==8.1"]
        loop = [{include-group = "loop"}]
        """,
    )
    deps = read_pyproject(path, ["prod", "ops"])
    assert deps.pinned("uvicorn") == Pin("uvicorn", Version("0.13.3"), ("standard",))
    assert deps.constraints("uvicorn") == [
        "h11==0.12.0", "uvloop==0.14.0", "websockets==8.1", "httptools==0.1.1"
    ]  # fmt: skip
    with pytest.raises(DependencyFileError, match=r"dependency-groups\.loop includes itself"):
        read_pyproject(path, ["loop"])
    with pytest.raises(DependencyFileError, match="no optional dependencies or dependency group"):
        read_pyproject(path, ["nope"])


def test_pyproject_without_project_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.poetry.dependencies]\nuvicorn = "0.13.3"\n')
    with pytest.raises(DependencyFileError, match=r"no \[project\] table \(Poetry"):
        read_pyproject(path)
    broken = write(tmp_path / "broken" / "pyproject.toml", "[project\n")
    with pytest.raises(DependencyFileError, match="not valid TOML"):
        read_pyproject(broken)


UV_LOCK = """
version = 1
requires-python = ">=3.8"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "h11" },
    { name = "uvicorn", extra = ["standard"] },
]

[[package]]
name = "h11"
version = "0.12.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "uvicorn"
version = "0.13.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "1.24.4"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.9'"]

[[package]]
name = "numpy"
version = "2.0.2"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.9'"]

[[package]]
name = "internal"
version = "1.0"
source = { git = "https://example.invalid/internal.git" }
"""


def test_uv_lock_pins_everything_but_the_project(tmp_path: Path) -> None:
    deps = read_uv_lock(write(tmp_path / "uv.lock", UV_LOCK))
    assert deps.pinned("uvicorn") == Pin("uvicorn", Version("0.13.3"), ("standard",))
    assert deps.constraints("uvicorn") == ["h11==0.12.0"]
    notes = "\n".join(deps.notes)
    assert "numpy is locked at several versions (1.24.4, 2.0.2)" in notes
    assert "internal comes from git" in notes


def test_uv_lock_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(DependencyFileError, match="no \\[\\[package\\]\\] entries"):
        read_uv_lock(write(tmp_path / "uv.lock", "version = 1\n"))
