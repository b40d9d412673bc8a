"""`python -m harness report`: files in, reports out, exit codes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import EXIT_CLEAN, EXIT_REGRESSION, EXIT_USAGE
from tests.conftest import SCENARIOS
from tests.junit_schema import validate_junit
from tests.unit.report_data import all_cells, cell, results, write


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_shards_in_all_reports_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    cells = all_cells()
    a = write(tmp_path / "a.json", results(cells[:7]))
    b = write(tmp_path / "b.json", results(cells[7:]))
    out = tmp_path / "out"
    code, stdout, _ = _report(
        capsys,
        str(a),
        str(b),
        "--html",
        str(out / "index.html"),
        "--junit",
        str(out / "junit.xml"),
        "--markdown",
        str(out / "summary.md"),
        "--json",
        str(out / "merged.json"),
    )
    assert code == EXIT_CLEAN, stdout
    assert f"html: {out / 'index.html'}" in stdout
    assert "port-zero-startup" in stdout and "0 unexpected" in stdout
    validate_junit(out / "junit.xml")
    assert '<table class="grid"' in (out / "index.html").read_text()
    merged = json.loads((out / "merged.json").read_text())
    assert merged["schema"] == 1 and len(merged["cells"]) == len(cells)
    assert merged["releases"]["uvicorn"][0] == "0.9.0"
    assert {c["verdict"] for c in merged["claims"]} >= {"refined"}


def test_a_conflict_fails_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.json", results(all_cells()))
    b = write(tmp_path / "b.json", results([cell("0.13.4", "3.8", "pass")]))
    code, stdout, _ = _report(capsys, str(a), str(b))
    assert code == EXIT_REGRESSION
    assert "conflict" in stdout
    assert "conflicting results: known-failure" in " ".join(stdout.split())


def test_an_unknown_schema_is_a_clear_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "good.json", results(all_cells()))
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"schema": 2, "cells": []}))
    code, _, err = _report(capsys, str(good), str(future))
    assert code == EXIT_USAGE
    assert f"{future}: results schema 2 is not supported (this harness reads schema 1)" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"cells": []}', "not a harness results file"),
        ('{"schema": 1, "cells": [{"scenario": "x"}]}', "cells[0].package: is required"),
        ('{"schema": 1, "cells": [], "releases": {"uvicorn": ["nope"]}}', "releases.uvicorn"),
        ('{"schema": 1, "cells": []}', "no cells to report"),
    ],
)
def test_bad_files_name_themselves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _, err = _report(capsys, str(path))
    assert code == EXIT_USAGE
    assert str(path) in err and message in err


def test_a_missing_file_and_a_missing_scenarios_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _report(capsys, str(tmp_path / "nope.json"))
    assert code == EXIT_USAGE and "nope.json: cannot read" in err
    good = write(tmp_path / "good.json", results(all_cells()))
    code, _, err = _report(capsys, str(good), "--scenarios-dir", str(tmp_path / "none"))
    assert code == EXIT_USAGE and "scenarios directory does not exist" in err


def test_without_any_file_argument_argparse_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report"])
    assert exit_info.value.code == EXIT_USAGE
    assert "RESULTS.json" in capsys.readouterr().err


def test_cells_are_judged_again_with_the_claims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file written under an older claim said 0.13.4 was a regression; judged by
    the scenario file at hand (--scenarios-dir), it is inside the claim, like the
    claim's own verdict says: the report must not exit 1 next to a confirmed claim."""
    cells = [
        cell("0.13.3", "3.8"),
        cell("0.13.4", "3.8", expected=False,
             reason="regression: port0-getpeername-enotconn (fixed in 0.13.0): ready: x"),
        cell("0.14.0", "3.8"),
    ]  # fmt: skip
    stale = write(tmp_path / "stale.json", results(cells))
    out = tmp_path / "merged.json"
    code, stdout, _ = _report(
        capsys, str(stale), "--scenarios-dir", str(SCENARIOS), "--json", str(out)
    )
    assert code == EXIT_CLEAN, stdout
    assert "0 unexpected" in stdout
    merged = {c["version"]: c for c in json.loads(out.read_text())["cells"]}
    assert merged["0.13.4"]["expected"] is True
    assert not merged["0.13.4"]["reason"].startswith("regression: ")
    late = write(tmp_path / "late.json", results([cell("0.13.3", "3.8"), cell("0.15.0", "3.8",
                 outcome="known-failure")]))  # fmt: skip
    code, stdout, _ = _report(capsys, str(late), "--scenarios-dir", str(SCENARIOS))
    assert code == EXIT_REGRESSION, "a stored 'expected' bug after the claimed fix is one"
