"""Issue 15's vocabulary against real uvicorn releases: cells that do not apply,
a fixed-reverted-fixed history, exit-status and comparison signatures, a user's
own app folder, and a cold-cache bisect that finds every range and crosses a
band of install failures within its cost bound."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import CliRun, broken_envs, processes_using, run_cli

pytestmark = pytest.mark.e2e

OWN = ROOT / "tests" / "e2e" / "scenarios-own"
#: 0.40+ need Python 3.10+; 0.14-0.16 still install on 3.11.
PYTHON = "3.11"


def bytecode_beside_apps() -> dict[Path, float]:
    """Every bytecode file in the harness's server/ and the user's app folder, with
    its modification time (other tools, such as the benchmark baselines, may
    leave some: what matters is that the harness's servers add or touch none)."""
    found = [*(ROOT / "server").rglob("*.pyc"), *OWN.rglob("*.pyc")]
    return {path: path.stat().st_mtime for path in found}


def by_key(run: CliRun) -> dict[str, dict[str, Any]]:
    assert run.results is not None, run.stdout + run.stderr
    return {
        f"{c['version']}" + "".join(f" {v}" for v in c["axes"].values()): c
        for c in run.results["cells"]
    }


def claims(run: CliRun) -> dict[str, dict[str, Any]]:
    assert run.results is not None
    return {claim["signature"]: claim for claim in run.results["claims"]}


def run(scenario: str, versions: str, cache_dir: Path, tmp_path: Path, *extra: str) -> CliRun:
    args = ["run", "--scenario", scenario, "--versions", versions, "--python", PYTHON,
            "--jobs", "4", "--no-narrow", *extra]  # fmt: skip
    return run_cli(args, cache_dir, tmp_path)


def test_fixed_reverted_fixed_with_a_variant_that_applies_only_where_help_lists_it(
    cache_dir: Path, tmp_path: Path
) -> None:
    before = bytecode_beside_apps()
    done = run(
        "contextvars-keepalive-leak", "0.38.0,0.39.0,0.45.0", cache_dir, tmp_path,
        "--matrix", "full",
    )  # fmt: skip
    assert done.code == 0, done.stdout + done.stderr
    assert bytecode_beside_apps() == before, "server/reference.py ran, no bytecode beside it"
    cells = by_key(done)
    for version in ("0.38.0", "0.45.0"):
        leak = cells[f"{version} --loop=asyncio"]
        assert leak["outcome"] == "known-failure" and leak["expected"], leak["reason"]
        assert leak["signature"] == "contextvar-leaks-into-next-request"
    assert cells["0.39.0 --loop=asyncio"]["outcome"] == "pass"
    for version in ("0.38.0", "0.39.0"):
        missing = cells[f"{version} --reset-contextvars"]
        assert missing["outcome"] == "skip" and missing["expected"]
        assert missing["reason"] == (
            f"not applicable: --reset-contextvars is not in uvicorn {version} --help"
        )
    assert cells["0.45.0 --reset-contextvars"]["outcome"] == "pass", "the opt-in fix works"
    checks = {c["name"]: c for c in cells["0.45.0 --loop=asyncio"]["checks"]}
    assert "before=/context/first" in checks["second"]["detail"]
    assert checks["first"]["elapsed_s"] >= 0
    verdict = claims(done)["contextvar-leaks-into-next-request"]
    assert verdict["verdict"] == "confirmed", verdict
    assert [(r["first_bad"], r["last_bad"]) for r in verdict["ranges"]] == [
        ("0.38.0", "0.38.0"), ("0.45.0", "0.45.0"),
    ]  # fmt: skip
    assert "observed: … ✓ → 0.38.0 … 0.38.0 ✗ → 0.39.0 ✓; 0.39.0 ✓ → 0.45.0" in " ".join(
        done.stdout.split()
    )


def test_a_feature_the_app_reports_and_a_comparison_of_responses(
    cache_dir: Path, tmp_path: Path
) -> None:
    done = run("lifespan-state-per-request", "0.20.0,0.21.0,0.21.1", cache_dir, tmp_path)
    assert done.code == 0, done.stdout + done.stderr
    cells = by_key(done)
    before = cells["0.20.0"]
    assert before["outcome"] == "skip", "no scope['state'] before 0.21.0: not applicable"
    assert before["reason"].startswith("not applicable: the app reports otherwise (GET /has-state")
    shared = cells["0.21.0"]
    assert shared["signature"] == "state-shared-per-connection"
    compare = {c["name"]: c for c in shared["checks"]}["state-not-shared"]
    assert "'n=1'" in compare["detail"] and "'n=3'" in compare["detail"]
    assert cells["0.21.1"]["outcome"] == "pass"
    assert claims(done)["state-shared-per-connection"]["verdict"] == "confirmed"


def test_exit_status_and_date_header_signatures(cache_dir: Path, tmp_path: Path) -> None:
    status = run("startup-failure-exit-code", "0.15.0,0.16.0", cache_dir, tmp_path)
    assert status.code == 0, status.stdout + status.stderr
    cells = by_key(status)
    assert (cells["0.15.0"]["exit_code"], cells["0.15.0"]["signature"]) == (
        0, "startup-failure-exits-zero",
    )  # fmt: skip
    assert (cells["0.16.0"]["exit_code"], cells["0.16.0"]["outcome"]) == (3, "pass")
    dates = run("date-header-keepalive", "0.18.3,0.19.0", cache_dir, tmp_path)
    assert dates.code == 0, dates.stdout + dates.stderr
    cells = by_key(dates)
    assert cells["0.18.3"]["signature"] == "date-frozen-per-connection"
    assert cells["0.19.0"]["outcome"] == "pass"


def test_a_users_app_folder_and_the_harness_launcher(cache_dir: Path, tmp_path: Path) -> None:
    before = bytecode_beside_apps()
    done = run_cli(
        ["run", "--scenarios-dir", str(OWN), "--versions", "0.21.1", "--python", PYTHON],
        cache_dir, tmp_path,
    )  # fmt: skip
    assert done.code == 0, done.stdout + done.stderr
    (cell,) = done.results["cells"] if done.results else []
    assert cell["outcome"] == "pass", cell["reason"]
    names = {c["name"] for c in cell["checks"]}
    assert {"same-app", "paths-differ"} <= names
    assert bytecode_beside_apps() == before, "no bytecode written into the app folders"
    assert not list(OWN.rglob("__pycache__"))


def test_cold_bisect_finds_both_ranges_and_crosses_the_band(tmp_path: Path) -> None:
    """The whole history on Python 3.11 on a fresh cache: releases 0.5.x-0.11.x
    cannot be built there (a band of install failures), the leak is bad, then
    fixed in 0.39.0, then back in 0.45.0."""
    cache = tmp_path / "cold"
    done = run_cli(["bisect", "contextvars-keepalive-leak", "--python", PYTHON, "--jobs", "4"],
                   cache, tmp_path, timeout_s=900)  # fmt: skip
    assert done.code == 0, done.stdout + done.stderr
    assert done.results is not None
    found = done.results["bisect"]
    ranges = [(r["introduced"]["first_bad"], r["fixed"]["last_bad"], r["fixed"]["first_good"])
              for r in found["ranges"]]  # fmt: skip
    assert len(ranges) == 2, ranges
    assert ranges[0][1:] == ("0.38.0", "0.39.0")
    assert ranges[1] == ("0.45.0", found["range"][1], None)
    assert found["ranges"][1]["introduced"]["last_good"] == "0.44.0"
    assert found["bands"], "old releases fail to build on 3.11"
    assert all(band["failed_installs"] <= 4 for band in found["bands"])
    cost = found["cost"]
    n, edges = found["releases"], found["edges_found"]
    bound = edges * (2 * math.log2(n) + 4) + len(found["coarse"])
    assert found["bound"] == round(bound, 1)
    assert 0 < cost["builds"] <= bound, (cost, bound)
    assert cost["from_cell_cache"] == 0, "a cold cache"
    text = " ".join(done.stdout.split())
    assert "range 1 of 2:" in text and "range 2 of 2:" in text
    assert "last good 0.44.0 -> first bad 0.45.0" in text
    assert "could hide a short interval" in text
    assert (
        f"failed installs per band: at most {max(b['failed_installs'] for b in found['bands'])}"
        in text
    )
    verdict = {c["signature"]: c for c in done.results["claims"]}
    assert verdict["contextvar-leaks-into-next-request"]["verdict"] == "confirmed"
    assert not processes_using(cache)
    assert not broken_envs(cache)
