"""Item 7: bad output paths and full disks are usage (3) or infrastructure (2)
errors, found before any cell runs; results are never lost at the end."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.security.conftest import (
    VERSION,
    Cli,
    harness,
    one_error_line,
    results,
    scenario_text,
    write_json,
    write_scenarios,
)

RUN = ["run", "--scenario", "port-zero-startup", "--versions", "0.14.0"]


def _run(tmp_path: Path, *args: str) -> Cli:
    return harness([*RUN, "--cache-dir", str(tmp_path / "cache"), *args], timeout_s=60)


def test_json_inside_a_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    cli = _run(tmp_path, "--json", str(tmp_path / "file.txt" / "results.json"))
    assert cli.code == 3
    assert "--json" in one_error_line(cli) and "is a file, not a folder" in cli.stderr
    assert not (tmp_path / "cache").exists()


def test_json_naming_a_folder_is_refused(tmp_path: Path) -> None:
    cli = _run(tmp_path, "--json", str(tmp_path))
    assert cli.code == 3
    assert "is a folder, not a file" in one_error_line(cli)


def test_html_in_a_missing_folder_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    cli = _run(tmp_path, "--html", str(tmp_path / "f" / "deeper" / "index.html"))
    assert cli.code == 3
    assert "--html" in one_error_line(cli)


def test_a_cache_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("x")
    cli = harness([*RUN, "--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / "r")])
    assert cli.code == 3
    assert "--cache-dir" in one_error_line(cli) and "is not a folder" in cli.stderr


def test_a_small_file_size_limit_is_refused_before_the_run(tmp_path: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, resource.RLIM_INFINITY))

    completed = subprocess.run(
        [sys.executable, "-m", "harness", *RUN, "--cache-dir", str(tmp_path / "cache"),
         "--json", str(tmp_path / "r.json")],
        cwd=ROOT, capture_output=True, text=True, preexec_fn=limit, timeout=60,
    )  # fmt: skip
    cli = Cli(completed.returncode, completed.stdout, completed.stderr)
    assert cli.code == 2
    assert "file-size limit (ulimit -f)" in one_error_line(cli)


def test_a_full_disk_under_an_output_is_infrastructure(tmp_path: Path, tmpfs: Path) -> None:
    cli = _run(tmp_path, "--json", str(tmpfs / "results.json"))
    assert cli.code == 2
    assert "KiB free on the disk holding" in one_error_line(cli)
    path = write_json(tmp_path / "r.json", results())
    cli = harness(["report", str(path), "--html", str(tmpfs / "index.html")])
    assert cli.code == 2, cli.output


def test_a_full_disk_under_the_cache_is_infrastructure(tmp_path: Path, tmpfs: Path) -> None:
    cli = harness([*RUN, "--cache-dir", str(tmpfs / "cache"), "--json", str(tmp_path / "r")])
    assert cli.code == 2
    assert "--cache-dir" in one_error_line(cli)


@pytest.mark.e2e
def test_a_full_disk_during_builds_is_exit_2_not_a_regression(
    tmp_path: Path, tmpfs: Path, security_cache: Path, python_minor: str
) -> None:
    """uv's cache on a full disk: every build fails with ENOSPC.  Before, the cells were
    `install-error` and the run exited 1 (a gate would have blamed the candidate)."""
    env = {"UV_CACHE_DIR": str(tmpfs / "uv")}
    out = tmp_path / "results.json"
    cli = harness(["run", "--scenario", "port-zero-startup", "--versions", "0.29.0",
                   "--python", python_minor, "--cache-dir", str(security_cache),
                   "--json", str(out)], env=env)  # fmt: skip
    assert cli.code == 2, cli.output
    (cell,) = json.loads(out.read_text())["cells"]
    assert cell["outcome"] == "error" and cell["reason"].startswith("out of disk space")
    gate = harness(["gate", "--candidate", "uvicorn==0.29.0", "--baseline", "uvicorn==0.28.1",
                    "--scenario", "port-zero-startup", "--python", python_minor,
                    "--cache-dir", str(security_cache), "--json", str(tmp_path / "gate.json")],
                   env=env)  # fmt: skip
    assert gate.code == 2, gate.output


@pytest.mark.e2e
def test_results_are_rescued_when_their_folder_goes_away(
    tmp_path: Path, security_cache: Path, python_minor: str
) -> None:
    """The app replaces the output folder with a file while the cell runs."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    body = f'env = {{OUTPUT_DIR = "{out_dir.as_posix()}"}}\n\n[[expect.http]]\npath = "/"\n'
    folder = write_scenarios(
        tmp_path / "scenarios", {"replace": scenario_text("replace", "replace_output:app", body)}
    )
    cli = harness(["run", "--scenarios-dir", str(folder), "--versions", VERSION,
                   "--python", python_minor, "--cache-dir", str(security_cache),
                   "--json", str(out_dir / "results.json")])  # fmt: skip
    assert cli.code == 3, cli.output
    line = one_error_line(cli)
    rescued = Path(line.rsplit("the results were written to ", 1)[1].split(" instead")[0])
    assert rescued.parent == security_cache.resolve() / "rescued-results"
    assert json.loads(rescued.read_text())["cells"][0]["outcome"] == "pass"
    assert f"results: {rescued}" in " ".join(cli.stdout.split())
