"""Item 4: no output overwrites an input or another output; refused (exit 3)
before any work is done."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.cli import main
from tests.security.conftest import results, write_json


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--html", "--junit", "--markdown", "--json"])
def test_report_refuses_to_write_over_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    path = write_json(tmp_path / "a.json", results())
    before = path.read_bytes()
    code, err = _main(capsys, "report", str(path), flag, str(path))
    assert code == 3
    assert f"{flag} {path}: is also an input" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("spelling", ["dot", "symlink", "hardlink", "parent"])
def test_every_spelling_of_the_same_file_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spelling: str,
) -> None:
    path = write_json(tmp_path / "a.json", results())
    before = path.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    other = {
        "dot": Path("./a.json"),
        "symlink": tmp_path / "link.json",
        "hardlink": tmp_path / "hard.json",
        "parent": Path("sub/../a.json"),
    }[spelling]
    if spelling == "symlink":
        other.symlink_to(path)
    elif spelling == "hardlink":
        os.link(path, other)
    code, _ = _main(capsys, "report", "a.json", "--html", str(other))
    assert code == 3
    assert path.read_bytes() == before


def test_two_outputs_of_run_may_not_be_the_same_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x"
    cache = tmp_path / "cache"
    selection = ["--scenario", "port-zero-startup", "--versions", "0.14.0"]
    outputs = ["--json", str(out), "--markdown", str(out), "--cache-dir", str(cache)]
    code, err = _main(capsys, "run", *selection, *outputs)
    assert code == 3
    assert f"--json and --markdown name the same file: {out}" in err
    assert not out.exists() and not cache.exists()  # nothing was done


def test_gate_refuses_to_write_over_the_requirements_it_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("uvicorn==0.30.5\n")
    code, err = _main(capsys, "gate", "--candidate", "uvicorn==0.30.6",
                      "--requirements", str(requirements), "--json", str(requirements))  # fmt: skip
    assert code == 3
    assert "is also an input" in err
    assert requirements.read_text() == "uvicorn==0.30.5\n"


def test_distinct_outputs_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path / "a.json", results())
    merged = tmp_path / "merged.json"
    code, _ = _main(capsys, "report", str(path), "--json", str(merged))
    assert code == 1  # the one cell is an unexpected new failure
    assert json.loads(merged.read_text())["schema"] == 1
