"""The fault suite: real servers that misbehave, and a harness that gets killed.

Every case starts real processes and asserts three things: the outcome, the time
it took against its bound, and that no process of the run is left (looked up in
the process table by the run's environment marker and by the cache's
interpreters, not just as children).  At the end of the pytest run the summary
prints one line per fault: outcome, time, bound and processes left.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.envs.interpreters import InterpreterFinder
from harness.procs.registry import RUN_ENV
from harness.scenario.loader import load_scenarios
from tests.conftest import ROOT
from tests.e2e.conftest import processes_using

pytestmark = pytest.mark.e2e

FAULT_SCENARIOS = Path(__file__).resolve().parent / "scenarios"
#: One modern release for every fault: they test the harness, not uvicorn.
FAULT_VERSION = "0.30.6"
#: Wall time a harness run may add to its cells' bounds: start-up, planning,
#: an environment build on a cold cache.
HARNESS_OVERHEAD_S = 90.0


@dataclass
class FaultRow:
    number: str
    name: str
    outcome: str = "-"
    seconds: float | None = None
    bound_s: float | None = None
    left: int | None = None
    note: str = ""
    status: str = "not run"


_ROWS: list[FaultRow] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fault(number, name): a case of the fault suite")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.fault_passed = report.passed  # type: ignore[attr-defined]
    return report


@pytest.fixture(autouse=True)
def fault_row(request: pytest.FixtureRequest) -> Iterator[FaultRow]:
    marker = request.node.get_closest_marker("fault")
    row = FaultRow(*marker.args) if marker else FaultRow("", request.node.name)
    yield row
    if marker:
        row.status = "ok" if getattr(request.node, "fault_passed", False) else "FAILED"
        _ROWS.append(row)


def _order(row: FaultRow) -> tuple[int, str]:
    digits = "".join(char for char in row.number if char.isdigit())
    return int(digits or 0), row.number


def _order(row: FaultRow) -> tuple[int, str]:
    digits = "".join(char for char in row.number if char.isdigit())
    return int(digits or 0), row.number


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    terminalreporter.section("fault suite")
    width = max(len(row.name) for row in _ROWS)
    for row in sorted(_ROWS, key=_order):
        seconds = f"{row.seconds:6.1f}s" if row.seconds is not None else "      -"
        bound = f"(bound {row.bound_s:.0f}s)" if row.bound_s is not None else ""
        left = "-" if row.left is None else str(row.left)
        terminalreporter.write_line(
            f"{row.number:>4} {row.name:<{width}} {row.outcome:<14} {seconds} {bound:<13} "
            f"left {left:<2} {row.status:<6} {row.note}".rstrip()
        )
    failed = sum(row.status != "ok" for row in _ROWS)
    left_total = sum(row.left or 0 for row in _ROWS)
    terminalreporter.write_line(
        f"{len(_ROWS)} fault case(s), {failed} failed, {left_total} process(es) left in total"
    )


@pytest.fixture(scope="session")
def fault_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept = os.environ.get("HARNESS_TEST_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("fault-cache")


@pytest.fixture(scope="session")
def fault_python() -> str:
    """3.12 when present (0.30.6 supports it), else the newest CPython >= 3.8."""
    found = [i for i in InterpreterFinder().discovered() if i.version.release >= (3, 8)]
    if not found:
        pytest.fail("no CPython >= 3.8 found on PATH or in pyenv: the fault suite needs one")
    minors = [i.minor for i in found]
    return "3.12" if "3.12" in minors else minors[-1]


def scenario_bound(scenario_id: str, folder: Path = FAULT_SCENARIOS) -> float:
    """The most one run of the scenario's server may take, from its own limits."""
    return load_scenarios([folder])[scenario_id].max_duration_s()


def run_bound(folder: Path, cells: int, jobs: int) -> float:
    """The most a whole harness run may take: its cells in waves of `jobs`, each
    wave as long as the slowest scenario allows, plus the harness's own overhead."""
    worst = max(scenario.max_duration_s() for scenario in load_scenarios([folder]).values())
    return HARNESS_OVERHEAD_S + math.ceil(cells / jobs) * worst


@dataclass
class HarnessRun:
    code: int
    stdout: str
    stderr: str
    results: dict[str, Any] | None
    elapsed_s: float
    peak_rss_mb: float | None = None

    def cell(self, scenario: str) -> dict[str, Any]:
        assert self.results is not None, self.stdout + self.stderr
        matches = [c for c in self.results["cells"] if c["scenario"] == scenario]
        assert len(matches) == 1, matches
        return matches[0]

    @property
    def run_id(self) -> str:
        assert self.results is not None
        return str(self.results["run_id"])


def harness_argv(
    args: Sequence[str], cache_dir: Path, results: Path, scenarios: Path | None = FAULT_SCENARIOS
) -> list[str]:
    argv = [sys.executable, "-m", "harness", "run", *args]
    if scenarios is not None:
        argv += ["--scenarios-dir", str(scenarios)]
    return [*argv, "--cache-dir", str(cache_dir), "--json", str(results)]


def harness_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "CI": "true", "COLUMNS": "120", **(extra or {})}


def run_harness(
    args: Sequence[str],
    cache_dir: Path,
    tmp_path: Path,
    *,
    scenarios: Path | None = FAULT_SCENARIOS,
    sample_rss: bool = False,
    timeout_s: float = 600,
) -> HarnessRun:
    """Run the harness CLI to completion; optionally sample its peak memory (RSS)."""
    results = tmp_path / f"results-{time.monotonic_ns()}.json"
    started = time.monotonic()
    process = subprocess.Popen(
        harness_argv(args, cache_dir, results, scenarios), cwd=ROOT, env=harness_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        watched = psutil.Process(process.pid)
        while not done.wait(0.02):
            try:
                peak[0] = max(peak[0], watched.memory_info().rss)
            except psutil.Error:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_rss:
        sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    finally:
        done.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    elapsed = time.monotonic() - started
    data = json.loads(results.read_text()) if results.exists() else None
    return HarnessRun(
        process.returncode,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
        data,
        elapsed,
        peak[0] / 2**20 if sample_rss else None,
    )


def marked_with(run_ids: Iterable[str]) -> list[psutil.Process]:
    """Live processes (not zombies) carrying one of these harness run markers."""
    wanted = set(run_ids)
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(RUN_ENV) in wanted:
                found.append(process)
        except psutil.Error:
            continue
    return found


def leftovers(run_ids: Iterable[str], cache_dir: Path) -> list[psutil.Process]:
    """What a run left: processes with its marker, or running from the cache's envs.

    The watchdog of a finished run (which only reads the cache) does not count.
    """
    found = {p.pid: p for p in marked_with(run_ids)}
    for process in processes_using(cache_dir / "envs"):
        found.setdefault(process.pid, process)
    return list(found.values())


def wait_for_no_leftovers(
    run_ids: Iterable[str], cache_dir: Path, timeout_s: float = 15.0
) -> list[psutil.Process]:
    """Leftovers once they stop changing (a watchdog may still be reaping), bounded."""
    run_ids = list(run_ids)
    deadline = time.monotonic() + timeout_s
    while True:
        found = leftovers(run_ids, cache_dir)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def check(detail: dict[str, Any], name: str) -> dict[str, Any]:
    """The named check of a cell's evidence."""
    for item in detail["checks"]:
        if item["name"] == name:
            return dict(item)
    raise AssertionError(f"no check {name!r} in {detail['checks']}")
