"""Bisect and claim narrowing against real uvicorn releases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.e2e.conftest import broken_envs, processes_using, run_cli

pytestmark = pytest.mark.e2e

UNREACHABLE = {
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "UV_INDEX_URL": "http://127.0.0.1:9/simple",
}


def test_bisect_port_zero_cold_warm_and_offline(tmp_path: Path, oldest: str) -> None:
    """From 0.10 to the newest release this Python can install, on a cold cache."""
    cache = tmp_path / "cold-cache"
    args = ["bisect", "port-zero-startup", "--python", oldest, "--versions", ">=0.10"]
    cold = run_cli(args, cache, tmp_path)
    assert cold.code == 0, cold.stdout + cold.stderr
    assert cold.results is not None
    found = cold.results["bisect"]
    assert found["introduced"] == {
        "last_good": "0.13.3", "first_bad": "0.13.4", "untestable": [], "untried": 0,
        "exact": True,
    }  # fmt: skip
    assert found["fixed"] == {
        "last_bad": "0.13.4", "first_good": "0.14.0", "untestable": [], "untried": 0,
        "exact": True,
    }  # fmt: skip
    assert len(found["ranges"]) == 1, "one bad range on a cold cache too"
    n = found["releases"]
    assert n >= 20 and found["range"][0] == "0.10.0"
    cost = found["cost"]
    bound = found["edges_found"] * (2 * math.log2(n) + 4) + len(found["coarse"])
    assert found["edges_found"] == 2 and 0 < cost["builds"] <= bound, (cost, bound)
    assert cost["from_cell_cache"] == 0 and cost["builds"] == found["probes"]
    assert "last good 0.13.3 -> first bad 0.13.4" in cold.stdout
    assert "last bad 0.13.4 -> first good 0.14.0" in cold.stdout
    assert f"{cost['builds']} environment build(s)" in cold.stdout
    assert "matched port0-getpeername-enotconn" in cold.stdout
    verdicts = {c["signature"]: c for c in cold.results["claims"]}
    assert verdicts["port0-getpeername-enotconn"]["verdict"] == "refined"
    assert "introduced in 0.13.4" in verdicts["port0-getpeername-enotconn"]["detail"]

    warm = run_cli(args, cache, tmp_path)
    assert warm.code == 0, warm.stdout + warm.stderr
    assert warm.results is not None
    assert warm.results["bisect"]["cost"]["builds"] == 0
    assert warm.results["bisect"]["cost"]["servers_run"] == 0
    assert warm.results["bisect"]["fixed"]["first_good"] == "0.14.0"
    assert "reused from the cell cache" in warm.stdout

    offline = run_cli([*args, "--offline"], cache, tmp_path, env=UNREACHABLE)
    assert offline.code == 0, offline.stdout + offline.stderr
    assert "offline: uvicorn releases as cached" in offline.stdout
    # `run` too: the release list from the cache, the environments (built by the
    # bisect above) reused, no installer started.
    offline_run = run_cli(
        ["run", "--scenario", "port-zero-startup", "--versions", "0.13.4,0.14.0",
         "--python", oldest, "--offline", "--no-narrow"], cache, tmp_path, env=UNREACHABLE,
    )  # fmt: skip
    assert offline_run.code == 0, offline_run.stdout + offline_run.stderr
    assert all(cell["env_reused"] for cell in offline_run.cells().values())
    online = run_cli(args, cache, tmp_path, env=UNREACHABLE, timeout_s=60)
    assert online.code == 2
    assert "127.0.0.1:9/simple is unreachable" in online.stderr
    assert "--offline uses it" in online.stderr
    assert "Traceback" not in online.stderr
    assert not processes_using(cache)
    assert not broken_envs(cache)


def test_bisect_usage_errors(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    windows_only = run_cli(["bisect", "two-worker-startup"], cache_dir, tmp_path)
    assert windows_only.code == 3
    assert "no signature that can occur on linux" in windows_only.stderr
    not_bad = run_cli(
        ["bisect", "port-zero-startup", "--python", oldest, "--versions", ">=0.13,<0.15",
         "--bad", "0.13.3"], cache_dir, tmp_path,
    )  # fmt: skip
    assert not_bad.code == 3, not_bad.stdout + not_bad.stderr
    assert "--bad 0.13.3 does not show the failure (pass)" in not_bad.stdout


def test_a_minors_run_pins_the_introduction(cache_dir: Path, tmp_path: Path, oldest: str) -> None:
    args = ["run", "--scenario", "port-zero-startup", "--scenario", "two-worker-startup",
            "--versions", "minors,>=0.12,<0.15", "--python", oldest]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert run.results is not None
    claims = {c["signature"]: c for c in run.results["claims"]}
    port_zero = claims["port0-getpeername-enotconn"]
    assert port_zero["verdict"] == "refined", port_zero
    assert port_zero["detail"].startswith("introduced in 0.13.4")
    assert (port_zero["last_good_before"], port_zero["first_bad"]) == ("0.13.3", "0.13.4")
    assert claims["workers-winerror-10022"]["verdict"] == "unverifiable here"
    cells = run.results["cells"]
    selected = {(c["scenario"], c["version"]) for c in cells if c["origin"] == "selected"}
    assert ("port-zero-startup", "0.12.3") in selected
    assert ("two-worker-startup", "0.12.1") in selected, "both sides of the claimed fix"
    added = [c for c in cells if c["origin"] == "narrowing"]
    assert {c["scenario"] for c in added} == {"port-zero-startup"}
    assert "0.13.3" in {c["version"] for c in added}
    assert len(added) <= 3
    assert "pinned claim edges with" in run.stdout
