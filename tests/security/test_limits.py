"""Item 11: bounded work.  A scenario's declared time per cell is capped, a large
run must be confirmed, only regular files of bounded size are read, and every
report carries bounded evidence per cell."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.cli import main
from tests.security.conftest import cell, harness, one_error_line, results, scenario_text


def _list(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str]:
    code = main(["list", "--scenarios-dir", str(folder)])
    return code, capsys.readouterr().err


def test_200_probes_of_an_hour_each_are_refused_naming_the_sum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probes = '\n[[expect.http]]\npath = "/"\nwait_s = 3600\n' * 200
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "s.toml").write_text(scenario_text("s", "hello:app", probes), encoding="utf-8")
    code, err = _list(capsys, folder)
    assert code == 3
    assert "s.toml: limits: one run of the server may take up to 722" in err
    assert "200 http probe(s)" in err and "wait_s adding up to 720000" in err
    assert "a cell may take at most 900s" in err  # SECURITY.md's documented limit


def test_a_matrix_of_billions_of_variants_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    axes = "\n[matrix]\n" + "".join(
        f"a{n} = [{', '.join(f'{chr(34)}{v}{chr(34)}' for v in range(10))}]\n" for n in range(10)
    )
    folder = tmp_path / "scenarios"
    folder.mkdir()
    text = scenario_text("s", "hello:app", '\n[[expect.http]]\npath = "/"\n' + axes)
    (folder / "s.toml").write_text(text, encoding="utf-8")
    code, err = _list(capsys, folder)
    assert code == 3 and "its axes make 10000000000 variants" in err


def test_thousands_of_cells_are_not_started_without_a_word(tmp_path: Path) -> None:
    """As CI runs it: no terminal, `CI` set.  Planning asks the index (reachable)."""
    cli = harness(["run", "--versions", ">=0", "--cache-dir", str(tmp_path / "cache"),
                   "--json", str(tmp_path / "r.json")], timeout_s=120)  # fmt: skip
    assert cli.code == 3, cli.output
    assert "this run is large" in one_error_line(cli) and "pass --yes" in cli.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_a_scenario_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    odd = folder / "x.toml"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "dev-zero":
        odd.symlink_to("/dev/zero")
    else:
        odd.mkdir()
    cli = harness(["list", "--scenarios-dir", str(folder)], timeout_s=30)
    assert cli.code == 3
    assert "x.toml: is a" in one_error_line(cli) and "not a regular file" in cli.stderr


def test_an_oversized_scenario_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "x.toml").write_text("# " + "x" * (2 * 1024 * 1024) + "\n")
    code, err = _list(capsys, folder)
    assert code == 3 and "x.toml: is larger than 1 MiB" in err


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_results_and_requirements_that_are_not_regular_files_are_refused(
    tmp_path: Path, kind: str
) -> None:
    odd = tmp_path / "odd"
    if kind == "fifo":
        os.mkfifo(odd)
    else:
        odd.symlink_to("/dev/zero")
    report = harness(["report", str(odd)], timeout_s=30)
    assert report.code == 3 and "not a regular file" in one_error_line(report)
    for requirements in (odd, tmp_path / "requirements.txt"):  # named, or included (a FIFO)
        (tmp_path / "requirements.txt").write_text("-r odd\n")
        argv = ["gate", "--candidate", "uvicorn==0.30.6", "--requirements", str(requirements)]
        gate = harness(argv, timeout_s=30)
        assert gate.code == 3, gate.output
        line = one_error_line(gate)
        assert "not a regular file" in line or (kind == "dev-zero" and "must be inside" in line)


def test_a_100_mb_output_tail_makes_a_small_report(tmp_path: Path) -> None:
    huge = cell(output_tail="x" * (100 * 1024 * 1024), reason="r" * (5 * 1024 * 1024))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results([huge])), encoding="utf-8")
    out = {name: tmp_path / name for name in ("index.html", "summary.md", "junit.xml", "m.json")}
    cli = harness(["report", str(path), "--html", str(out["index.html"]), "--markdown",
                   str(out["summary.md"]), "--junit", str(out["junit.xml"]),
                   "--json", str(out["m.json"])], env={"GITHUB_STEP_SUMMARY": ""})  # fmt: skip
    assert cli.code == 1, cli.output
    for name, written in out.items():
        assert written.stat().st_size < 256 * 1024, name
    assert len(cli.output) < 64 * 1024
