"""The scenario catalog and its vocabulary, run for real against uvicorn releases.

One test per feature, each on the cheapest releases and Pythons that show it:
Unix sockets, passed file descriptors, raw exchanges, programmatic launchers,
import counting, servers that must exit by themselves, release-date
resolution, scoped signatures, exclusive addresses; and every built-in
scenario on the newest release with Python 3.12.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import CliRun, broken_envs, processes_using, run_cli

pytestmark = pytest.mark.e2e

TEST_SCENARIOS = ROOT / "tests" / "e2e" / "scenarios"


def cells(run: CliRun) -> dict[str, dict[str, Any]]:
    """Cells keyed `version/pyX.Y` plus ` axis=value ...` and ` resolution=...` if any."""
    assert run.results is not None, run.stdout + run.stderr
    keyed = {}
    for cell in run.results["cells"]:
        key = f"{cell['version']}/py{cell['python']}"
        key += "".join(f" {name}={value}" for name, value in cell["axes"].items())
        if cell["resolution"] != "latest":
            key += f" resolution={cell['resolution']}"
        keyed[key] = cell
    return keyed


def checks(cell: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in cell["checks"]}


def claims(run: CliRun) -> dict[str, dict[str, Any]]:
    assert run.results is not None
    return {claim["signature"]: claim for claim in run.results["claims"]}


def run_scenario(
    scenario: str, versions: str, pythons: list[str], cache_dir: Path, tmp_path: Path,
    *extra: str,
) -> CliRun:  # fmt: skip
    args = ["run", "--scenario", scenario, "--versions", versions, "--jobs", "4"]
    for python in pythons:
        args += ["--python", python]
    return run_cli([*args, *extra], cache_dir, tmp_path)


#: Bugs the newest release still has, each inside a claimed range with no end.
STILL_OPEN = {
    ("contextvars-keepalive-leak", "contextvar-leaks-into-next-request"),
    ("workers-startup-failure", "workers-failed-start-exits-zero"),
}


def test_every_builtin_scenario_passes_on_the_newest_release(
    cache_dir: Path, tmp_path: Path
) -> None:
    """Or shows a bug upstream has not fixed yet, where its claim says so."""
    run = run_cli(["run", "--versions", "latest", "--python", "3.12", "--jobs", "4"],
                  cache_dir, tmp_path)  # fmt: skip
    assert run.results is not None, run.stderr
    scenarios = {cell["scenario"] for cell in run.results["cells"]}
    assert len(scenarios) >= 21
    open_bugs = {
        (c["scenario"], c["signature"])
        for c in run.results["cells"]
        if c["outcome"] == "known-failure" and c["expected"]
    }
    assert open_bugs == STILL_OPEN
    not_passing = [
        (c["scenario"], c["axes"], c["resolution"], c["outcome"], c["reason"][:300])
        for c in run.results["cells"]
        if c["outcome"] != "pass" and (c["scenario"], c["signature"]) not in STILL_OPEN
    ]
    assert not not_passing
    assert run.code == 0, run.stdout + run.stderr
    assert not processes_using(cache_dir)


def test_client_features_websocket_proxy_keepalive_raw(cache_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--scenarios-dir", str(TEST_SCENARIOS), "--scenario", "client-features",
            "--versions", "latest", "--python", "3.12"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    for key, cell in cells(run).items():
        assert cell["outcome"] == "pass", (key, cell["checks"])
        by_name = checks(cell)
        assert "subprotocol 'chat', answer 'hi there'" in by_name["websocket-chat"]["detail"]
        assert "closed by the server" in by_name["garbage-gets-400"]["detail"]
        assert by_name["keep-alive-reused"]["ok"] and by_name["keep-alive-expired"]["ok"]
    assert {cell["axes"]["http"] for cell in cells(run).values()} == {"h11", "httptools"}


def test_programmatic_server_on_a_unix_socket_and_an_inherited_fd(
    cache_dir: Path, tmp_path: Path
) -> None:
    args = ["run", "--scenarios-dir", str(TEST_SCENARIOS), "--scenario", "programmatic-server-uds",
            "--scenario", "inherited-fd", "--versions", "latest", "--python", "3.12"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert run.results is not None
    by_scenario = {cell["scenario"]: cell for cell in run.results["cells"]}
    uds = by_scenario["programmatic-server-uds"]
    assert uds["outcome"] == "pass", uds["checks"]
    assert uds["address"].startswith("unix:")
    assert "1 import(s) in the parent" in checks(uds)["imported-once-in-the-server"]["detail"]
    fd = by_scenario["inherited-fd"]
    assert fd["outcome"] == "pass", fd["checks"]
    assert "passed socket" in checks(fd)["ready"]["detail"]


def test_uds_startup_regression(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("uds-startup", "0.17.1,0.17.3,0.17.4", ["3.12"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    by_key = cells(run)
    bad = by_key["0.17.3/py3.12"]
    assert bad["outcome"] == "known-failure" and bad["signature"] == "uds-create-server-path"
    assert bad["exit_code"] == 1
    good = by_key["0.17.4/py3.12"]
    assert good["outcome"] == "pass"
    assert checks(good)["socket-file-while-running"]["ok"]
    verdict = claims(run)["uds-create-server-path"]
    assert verdict["verdict"] == "refined"
    # Claim narrowing adds 0.17.2 (between the passing 0.17.1 and the failing 0.17.3).
    assert (verdict["first_bad"], verdict["first_good_after"]) == ("0.17.2", "0.17.4")
    assert by_key["0.17.2/py3.12"]["origin"] == "narrowing"


@pytest.fixture
def port_8000_taken() -> Iterator[None]:
    """Something else listens on 127.0.0.1:8000 (bound here, or already by another program)."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 8000))
        listener.listen(1)
    except OSError:
        listener.close()
        listener = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if listener is not None:
            listener.close()


def test_fd_passed_as_stdin_and_the_tcp_fallback(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("fd-zero-with-workers", "0.46.0,0.47.0", ["3.12"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    by_key = cells(run)
    bad = by_key["0.46.0/py3.12"]
    assert bad["outcome"] == "known-failure", bad["checks"]
    failed = {name for name, check in checks(bad).items() if not check["ok"]}
    assert failed == {"passed-socket-answers", "no-tcp-fallback"}
    assert "127.0.0.1:8000 accepts" in checks(bad)["no-tcp-fallback"]["detail"]
    good = by_key["0.47.0/py3.12"]
    assert good["outcome"] == "pass", good["checks"]
    assert "refuses" in checks(good)["no-tcp-fallback"]["detail"]


def test_a_taken_fixed_address_is_never_a_pass(
    cache_dir: Path, tmp_path: Path, port_8000_taken: None
) -> None:
    run = run_scenario("uds-with-workers", "latest", ["3.12"], cache_dir, tmp_path)
    cell = next(iter(cells(run).values()))
    assert cell["outcome"] == "new-failure"
    assert "before the server started" in checks(cell)["no-tcp-fallback"]["detail"]
    assert run.code == 1


def test_pipelined_requests_raw_exchange(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("pipelined-requests", "0.27.0.post1,0.27.1", ["3.12"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    by_key = cells(run)
    for http in ("h11", "httptools"):
        bad = by_key[f"0.27.0.post1/py3.12 http={http}"]
        assert bad["outcome"] == "known-failure", bad["checks"]
        assert "seen 1x" in checks(bad)["both-pipelined-answered"]["detail"]
        assert by_key[f"0.27.1/py3.12 http={http}"]["outcome"] == "pass"
    assert "LocalProtocolError" in by_key["0.27.0.post1/py3.12 http=h11"]["output_tail"]
    assert claims(run)["pipelined-response-dropped"]["verdict"] == "confirmed"


def test_programmatic_run_readiness_without_a_ready_line(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("run-logging", "0.18.1,0.18.2", ["3.8"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    bad = cells(run)["0.18.1/py3.8"]
    assert bad["outcome"] == "known-failure" and bad["signature"] == "run-prints-nothing"
    assert bad["output_tail"].strip() == ""
    assert checks(bad)["ready"]["ok"] and checks(bad)["http GET /"]["ok"]
    assert cells(run)["0.18.2/py3.8"]["outcome"] == "pass"


def test_import_counting_per_process(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("supervisor-app-import", "0.49.0,0.50.0", ["3.12"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    by_key = cells(run)
    for supervisor in ("--workers=2", "--reload"):
        bad = by_key[f"0.49.0/py3.12 supervisor={supervisor}"]
        assert bad["outcome"] == "known-failure", bad["checks"]
        assert "1 import(s) in the parent" in checks(bad)["parent-does-not-import"]["detail"]
        good = by_key[f"0.50.0/py3.12 supervisor={supervisor}"]
        assert good["outcome"] == "pass", good["checks"]


def test_server_that_must_exit_by_itself(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("uds-failed-startup-exit", "0.19.0,0.20.0", ["3.12"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    bad, good = cells(run)["0.19.0/py3.12"], cells(run)["0.20.0/py3.12"]
    assert bad["outcome"] == "known-failure" and bad["exit_code"] == 1
    assert good["outcome"] == "pass" and good["exit_code"] == 3
    assert good["stop"].startswith("by itself")
    assert "ready" not in checks(good)  # nothing needed it running


def test_release_date_resolution_shows_dependency_drift(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("uvloop-event-loop-startup", "0.14.0", ["3.8"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    by_key = cells(run)
    today = by_key["0.14.0/py3.8"]
    then = by_key["0.14.0/py3.8 resolution=release-date"]
    assert today["outcome"] == "known-failure", today["checks"]
    assert then["outcome"] == "pass", then["checks"]
    assert then["exclude_newer"] == "2021-06-01T23:59:59Z" and today["exclude_newer"] is None
    assert today["resolved"]["uvloop"] != then["resolved"]["uvloop"]
    assert then["resolved"]["uvloop"].startswith("0.15")
    assert "resolution=release-date" in run.stdout
    assert claims(run)["uvloop-no-current-event-loop"]["verdict"] != "contradicted"
    only_then = run_scenario("uvloop-event-loop-startup", "0.14.0", ["3.8"], cache_dir, tmp_path,
                             "--resolution", "release-date")  # fmt: skip
    assert [c["resolution"] for c in cells(only_then).values()] == ["release-date"]
    assert claims(only_then)["uvloop-no-current-event-loop"]["verdict"] == "unverifiable here"
    assert only_then.code == 0


def test_python_scoped_signature(cache_dir: Path, tmp_path: Path) -> None:
    run = run_scenario("import-without-typing-extensions", "0.22.0,0.23.0,0.23.1",
                       ["3.8", "3.12"], cache_dir, tmp_path)  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    by_key = cells(run)
    assert by_key["0.23.0/py3.8"]["outcome"] == "known-failure"
    assert by_key["0.23.0/py3.12"]["outcome"] == "pass"
    assert claims(run)["typing-extensions-missing"]["verdict"] == "refined"
    assert "typing-extensions" not in by_key["0.23.0/py3.8"]["resolved"]
    assert not broken_envs(cache_dir)


def test_bad_resolution_is_a_usage_error(cache_dir: Path, tmp_path: Path) -> None:
    run = run_cli(["run", "--resolution", "yesterday"], cache_dir, tmp_path)
    assert run.code == 3
    assert "--resolution 'yesterday'" in run.stderr


def test_ctrl_c_reaches_servers_of_a_background_harness(cache_dir: Path, tmp_path: Path) -> None:
    """A harness started with SIGINT ignored (a shell's background job) must not pass
    that on: uvicorn 0.29.0 re-raises SIGINT after shutdown and must be seen failing."""
    results = tmp_path / "results.json"
    argv = [sys.executable, "-m", "harness", "run", "--scenario", "sigint-clean-exit",
            "--versions", "0.29.0", "--python", "3.12", "--cache-dir", str(cache_dir),
            "--json", str(results)]  # fmt: skip
    completed = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "CI": "true"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (cell,) = json.loads(results.read_text())["cells"]
    assert cell["outcome"] == "known-failure" and cell["exit_code"] == 1


def test_bisect_probes_the_variants_where_the_failure_can_occur(
    cache_dir: Path, tmp_path: Path
) -> None:
    """wsgi-interface's h11 signature: only the http=h11 cells are probed."""
    args = ["bisect", "wsgi-interface", "--signature", "wsgi-scope-keyerror", "--python", "3.8",
            "--versions", ">=0.11.5,<=0.11.8"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    data = run.results
    assert data is not None
    assert {cell["axes"]["http"] for cell in data["cells"]} == {"h11"}
    (claim,) = data["claims"]
    assert (claim["last_good_before"], claim["first_bad"]) == ("0.11.5", "0.11.6")
    assert (claim["last_bad"], claim["first_good_after"]) == ("0.11.7", "0.11.8")
    assert "last good 0.11.5 -> first bad 0.11.6" in run.stdout
