"""The harness itself meets trouble: SIGKILL mid-run, a build killed half way,
two runs on one cache, Ctrl-C.  Nothing may be leaked, lost or corrupted."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import broken_envs
from tests.faults.conftest import (
    FAULT_SCENARIOS,
    FAULT_VERSION,
    HARNESS_OVERHEAD_S,
    FaultRow,
    harness_argv,
    harness_env,
    leftovers,
    marked_with,
    run_bound,
    run_harness,
    wait_for_no_leftovers,
)

pytestmark = pytest.mark.e2e

#: A second modern release, so runs need two environments.
OTHER_VERSION = "0.30.5"
VERSIONS = f"{FAULT_VERSION},{OTHER_VERSION}"

READY = r"ready = 'Uvicorn running on https?://(?P<host>[^\s:]+):(?P<port>\d+)'"
KINDS: dict[str, tuple[str, str, str]] = {
    # kind: (app, extra TOML, outcome every cell of that kind must have)
    "hello": ("hello:app", '[[expect.http]]\npath = "/"\nbody = "Hello, world!"', "pass"),
    "stubborn": (
        "faults.stubborn_helpers:app",
        "[limits]\nkill_grace_s = 0.5\n[expect.exit]\nwithin_s = 1\n"
        "[[expect.log]]\npattern = 'stubborn helper \\((\\w+)\\)'\ndistinct_min = 2",
        "timeout",
    ),
    "never-ready": (
        "faults.never_ready:app",
        "[limits]\nready_s = 2\nkill_grace_s = 0.5\n[expect.exit]\nwithin_s = 1",
        "timeout",
    ),
    "exit-zero": ("faults.exit_zero:app", "", "new-failure"),
}


def write_scenarios(folder: Path, counts: dict[str, int]) -> dict[str, str]:
    """Scenario files for `counts` of each kind; returns scenario id -> expected outcome."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for kind, count in counts.items():
        app, extra, outcome = KINDS[kind]
        for number in range(count):
            scenario_id = f"{number:02d}-{kind}"  # kinds interleave in the run's order
            text = (
                f'id = "{scenario_id}"\ntitle = "{kind} {number}"\n'
                f'platforms = ["linux", "macos"]\n\n[server]\napp = "{app}"\n'
                'command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]\n'
                f"{READY}\n\n{extra}\n"
            )
            (folder / f"{scenario_id}.toml").write_text(text)
            expected[scenario_id] = outcome
    return expected


def start_harness(
    args: list[str], cache: Path, results: Path, scenarios: Path, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        harness_argv(args, cache, results, scenarios), cwd=ROOT, env=harness_env(),
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def wait_until(predicate: Callable[[], bool], timeout_s: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def run_record(cache: Path, pid: int) -> dict[str, Any] | None:
    """The run record of the harness process `pid`, once it has written one."""
    for path in (cache / "runs").glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("pid") == pid:
            return dict(data)
    return None


def servers_of(run_id: str, app: str = "") -> list[psutil.Process]:
    """The run's live uvicorn servers (of `app`, when given)."""
    found = []
    for process in marked_with([run_id]):
        with contextlib.suppress(psutil.Error):
            command = " ".join(process.cmdline())
            if "uvicorn" in command and app in command:
                found.append(process)
    return found


def assert_valid_or_absent(results: Path) -> None:
    """A killed run never leaves a truncated results file."""
    if results.exists():
        json.loads(results.read_text())


def kill_one_run(
    args: list[str],
    cache: Path,
    results: Path,
    folder: Path,
    log: IO[bytes],
    delay: float | None,
) -> tuple[str, str]:
    """Start a run and SIGKILL it after `delay` seconds; with `delay` None, first
    wait for servers and SIGKILL its watchdog too.  Returns (run id, when)."""
    process = start_harness(args, cache, results, folder, log)
    assert wait_until(lambda: run_record(cache, process.pid) is not None, 60)
    record = run_record(cache, process.pid)
    assert record is not None
    run_id = str(record["run_id"])
    if delay is None:
        # Servers that stay up by themselves (exit-zero ones would just vanish).
        assert wait_until(lambda: bool(servers_of(run_id, "stubborn")), 120), "no server ran"
        record = run_record(cache, process.pid)
        assert record is not None and record["watchdog_pid"]
        os.kill(int(record["watchdog_pid"]), signal.SIGKILL)
        moment = "with servers up + watchdog"
    else:
        wait_until(lambda: process.poll() is not None, delay)
        moment = f"{delay:.1f}s"
    if process.poll() is None:
        process.kill()
    process.wait()
    return run_id, moment


@pytest.mark.fault("8", "harness SIGKILLed mid-run (50 cells, 3x)")
def test_harness_killed_at_random_moments(
    fault_row: FaultRow, fault_python: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FAULT_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    cache = tmp_path / "cache"  # cold: some kills land in environment builds
    folder = tmp_path / "scenarios"
    expected = write_scenarios(
        folder, {"hello": 15, "stubborn": 4, "never-ready": 3, "exit-zero": 3}
    )
    args = ["--versions", VERSIONS, "--python", fault_python, "--jobs", "4"]
    results = tmp_path / "results.json"
    killed: list[str] = []
    moments: list[str] = []
    for round_number, delay in enumerate([rng.uniform(0.5, 10.0), rng.uniform(0.5, 10.0), None]):
        with (tmp_path / f"round-{round_number}.log").open("wb") as log:
            run_id, moment = kill_one_run(args, cache, results, folder, log, delay)
        killed.append(run_id)
        moments.append(moment)
        assert_valid_or_absent(results)
        if delay is not None:  # the watchdog reaps at once
            left = wait_for_no_leftovers([run_id], cache)
            assert not left, f"round {round_number}: {[p.cmdline() for p in left]}"
    # The last run's watchdog died with it: its servers are still there ...
    orphans = len(leftovers([killed[-1]], cache))
    assert orphans, "servers were running when the harness and its watchdog died"

    final = run_harness(args, cache, tmp_path, scenarios=folder)
    (tmp_path / "final.log").write_text(final.stdout + final.stderr)
    text = " ".join(final.stdout.split())
    # ... until the next run finds them, reaps them and says so (the count may
    # differ a little: a server can start a helper or die of a broken pipe meanwhile).
    said = re.search(
        rf"recovered: run {killed[-1]} .*? ended without cleaning up; "
        r"stopped (\d+) process\(es\) it left running",
        text,
    )
    assert said, text[:2000]
    reaped = int(said.group(1))
    assert reaped >= 1
    assert final.results is not None and final.results["complete"] is True
    cells = final.results["cells"]
    assert len(cells) == 50
    wrong = [
        (c["scenario"], c["version"], c["outcome"])
        for c in cells
        if c["outcome"] != expected[c["scenario"]]
    ]
    assert not wrong, wrong
    assert final.code == 1  # the fault kinds are unexpected cells
    left = leftovers([*killed, final.run_id], cache)
    fault_row.outcome = "correct rerun"
    fault_row.seconds = final.elapsed_s
    fault_row.bound_s = run_bound(folder, cells=50, jobs=4)
    fault_row.left = len(left)
    assert final.elapsed_s <= fault_row.bound_s
    fault_row.note = f"seed {seed}; killed at {', '.join(moments)}; next run reaped {reaped}"
    assert not left, [p.cmdline() for p in left]
    assert not broken_envs(cache)
    assert not list((cache / "runs").glob("*.json"))


@pytest.mark.fault("9", "environment build killed half way")
def test_env_build_killed(fault_row: FaultRow, fault_python: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = tmp_path / "scenarios"
    write_scenarios(folder, {"hello": 1})
    args = ["--versions", FAULT_VERSION, "--python", fault_python, "--backend", "virtualenv"]
    results = tmp_path / "results.json"

    def half_built() -> list[Path]:
        envs = cache / "envs"
        return broken_envs(cache) if envs.is_dir() else []

    with (tmp_path / "killed.log").open("wb") as log:
        process = start_harness(args, cache, results, folder, log)
        # virtualenv + ensurepip + pip take seconds: kill while the env has no marker.
        assert wait_until(lambda: bool(half_built()), 120), "the build never started"
        record = run_record(cache, process.pid)
        process.kill()
        process.wait()
    assert record is not None
    assert half_built(), "precondition: the kill left a half-built environment"
    assert not wait_for_no_leftovers([record["run_id"]], cache), "installer left running"

    rerun = run_harness(args, cache, tmp_path, scenarios=folder)
    text = " ".join(rerun.stdout.split())
    assert "recovered: removed the half-built environment uvicorn-0.30.6" in text
    cell = rerun.cell("00-hello")
    fault_row.outcome = str(cell["outcome"])
    fault_row.seconds = rerun.elapsed_s
    fault_row.bound_s = run_bound(folder, cells=1, jobs=1)
    fault_row.left = len(leftovers([record["run_id"], rerun.run_id], cache))
    assert rerun.elapsed_s <= fault_row.bound_s
    fault_row.note = "rebuilt on the next run, never used half-built"
    assert cell["outcome"] == "pass", cell["reason"]
    assert cell["env_reused"] is False
    assert not half_built()
    assert fault_row.left == 0


@pytest.mark.fault("10", "two runs at once on one cache")
def test_two_runs_share_a_cache(fault_row: FaultRow, fault_python: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = tmp_path / "scenarios"
    expected = write_scenarios(folder, {"hello": 2, "exit-zero": 1})
    args = ["--versions", VERSIONS, "--python", fault_python]
    started = time.monotonic()
    processes = []
    for name in ("a", "b"):
        log = (tmp_path / f"{name}.log").open("wb")
        processes.append((start_harness(args, cache, tmp_path / f"{name}.json", folder, log), log))
    for process, log in processes:
        process.wait(timeout=600)
        log.close()
    elapsed = time.monotonic() - started
    outputs = [(tmp_path / f"{name}.log").read_text() for name in ("a", "b")]
    runs = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("a", "b")]
    for (process, _), output in zip(processes, outputs, strict=True):
        assert process.returncode == 1, output  # exit-zero cells are unexpected
        assert "recovered:" not in output, "a live run must never be reaped by another"
    built: dict[str, int] = {}
    for data in runs:
        assert data["complete"] is True
        assert len(data["cells"]) == 6
        for cell in data["cells"]:
            assert cell["outcome"] == expected[cell["scenario"]], cell
            if cell["env_reused"] is False:
                built[cell["version"]] = built.get(cell["version"], 0) + 1
    left = leftovers([data["run_id"] for data in runs], cache)
    fault_row.outcome = "both correct"
    fault_row.seconds = elapsed
    # Worst case: one run waits for the other's builds, then runs its cells one by one.
    fault_row.bound_s = run_bound(folder, cells=6, jobs=1) + HARNESS_OVERHEAD_S
    fault_row.left = len(left)
    assert elapsed <= fault_row.bound_s
    fault_row.note = f"builds per environment: {built}"
    assert built == {FAULT_VERSION: 1, OTHER_VERSION: 1}, "each environment built exactly once"
    assert not broken_envs(cache)
    for marker in (cache / "envs").glob("*/.harness-env.json"):
        json.loads(marker.read_text())
    assert not left


@pytest.mark.fault("11", "Ctrl-C with stubborn servers running")
def test_ctrl_c(fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path) -> None:
    args = ["--versions", FAULT_VERSION, "--python", fault_python, "--jobs", "4"]
    for scenario in ("stubborn-helpers", "deaf-workers", "never-finishes", "never-ready"):
        args += ["--scenario", f"fault-{scenario}"]
    results = tmp_path / "partial.json"
    with (tmp_path / "ctrl-c.log").open("wb") as log:
        process = start_harness(args, fault_cache, results, FAULT_SCENARIOS, log)
        assert wait_until(lambda: run_record(fault_cache, process.pid) is not None, 120)
        record = run_record(fault_cache, process.pid)
        assert record is not None
        run_id = str(record["run_id"])
        assert wait_until(lambda: len(servers_of(run_id)) >= 3, 120), "servers never started"
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        took = time.monotonic() - interrupted
    output = (tmp_path / "ctrl-c.log").read_text()
    left = leftovers([run_id], fault_cache)  # right away: reaped before the exit
    fault_row.outcome = f"exit {process.returncode}"
    fault_row.seconds = took
    fault_row.bound_s = 10
    fault_row.left = len(left)
    assert process.returncode == 130, output
    assert took < 10, "stops within a few seconds"
    data = json.loads(results.read_text())
    assert data["complete"] is False
    assert "interrupted: results are incomplete" in data["notes"]
    assert "INCOMPLETE" in output
    assert not left, [p.cmdline() for p in left]
    assert not (fault_cache / "runs" / f"{run_id}.json").exists()


WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from harness.atomic import write_text_atomic
    target = Path(sys.argv[1])
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        cells = [{"n": n, "i": i, "output_tail": "x" * 2000} for i in range(2000)]
        write_text_atomic(target, json.dumps({"n": n, "cells": cells}))
    """
)


@pytest.mark.fault("12", "killed while writing results (20 kills)")
def test_results_survive_a_kill_mid_write(fault_row: FaultRow, tmp_path: Path) -> None:
    """A real crash mid-write, many times: the file is always the old or the new one."""
    target = tmp_path / "results.json"
    rng = random.Random(7)
    generations = set()
    started = time.monotonic()
    writers = []
    for _ in range(20):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE
        )
        writers.append(writer.pid)
        assert writer.stdout is not None
        writer.stdout.readline()
        time.sleep(rng.uniform(0.05, 0.4))
        writer.kill()
        writer.wait()
        if target.exists():
            data = json.loads(target.read_text())  # never truncated
            assert len(data["cells"]) == 2000
            generations.add(data["n"])
    leftover_temps = list(tmp_path.glob(".results.json.*.tmp"))
    fault_row.outcome = "always valid"
    fault_row.seconds = time.monotonic() - started
    fault_row.left = sum(psutil.pid_exists(pid) for pid in writers)
    fault_row.note = (
        f"{len(generations)} distinct complete generations seen; "
        f"{len(leftover_temps)} temp file(s) of killed writers (swept once stale)"
    )
    assert generations, "the writer never completed a file"
    assert fault_row.left == 0
