"""Servers that misbehave: each becomes a definite, explained outcome, in bounded
time, with no process left behind."""

from __future__ import annotations

import contextlib
import socket
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from harness.envs.backends import UvBackend
from harness.envs.cache import EnvCache, EnvSpec
from harness.envs.index_config import discover_index_config
from harness.envs.interpreters import InterpreterFinder
from harness.runner.cell import CellRunner
from harness.runner.ports import PortAllocator
from harness.scenario.loader import load_scenario
from tests.faults.conftest import (
    FAULT_VERSION,
    HARNESS_OVERHEAD_S,
    FaultRow,
    HarnessRun,
    check,
    leftovers,
    run_harness,
    scenario_bound,
)

pytestmark = pytest.mark.e2e


def run_fault(
    scenario_id: str, row: FaultRow, cache: Path, python: str, tmp_path: Path, **kwargs: object
) -> tuple[HarnessRun, dict[str, object]]:
    """Run one fault scenario; check and record its time and what it left."""
    args = ["--scenario", scenario_id, "--versions", FAULT_VERSION, "--python", python]
    run = run_harness(args, cache, tmp_path, **kwargs)  # type: ignore[arg-type]
    cell = run.cell(scenario_id)
    bound = scenario_bound(scenario_id)
    left = leftovers([run.run_id], cache)
    row.outcome = str(cell["outcome"])
    row.seconds = float(cell["duration_s"])
    row.bound_s = bound
    row.left = len(left)
    assert not left, [p.cmdline() for p in left]
    assert cell["duration_s"] <= bound, f"{cell['duration_s']}s > {bound}s"
    assert run.elapsed_s <= bound + HARNESS_OVERHEAD_S
    assert "Traceback" not in run.stderr, run.stderr
    return run, cell


@pytest.mark.fault("1", "lifespan start-up never completes")
def test_never_ready(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    run, cell = run_fault("fault-never-ready", fault_row, fault_cache, fault_python, tmp_path)
    assert cell["outcome"] == "timeout"
    ready = check(cell, "ready")
    assert not ready["ok"] and "within 3s" in ready["detail"]
    assert "Waiting for application startup" in str(cell["output_tail"])
    assert run.code == 1


@pytest.mark.fault("2", "the app raises at import")
def test_import_error(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    run, cell = run_fault("fault-import-error", fault_row, fault_cache, fault_python, tmp_path)
    assert cell["outcome"] == "new-failure"
    tail = str(cell["output_tail"])
    assert "Traceback (most recent call last)" in tail
    assert "RuntimeError: fault app: settings file is missing (raised at import)" in tail
    assert str(cell["fingerprint"]).startswith("RuntimeError: fault app: settings file")
    assert "exited with code 1 before it was ready" in check(cell, "ready")["detail"]
    assert run.code == 1


@pytest.mark.fault("3", "the server writes 200 MB to stdout")
def test_flood(fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path) -> None:
    run, cell = run_fault(
        "fault-flood", fault_row, fault_cache, fault_python, tmp_path, sample_rss=True
    )
    assert cell["outcome"] == "pass", cell["reason"]
    assert check(cell, "log: the flood ended")["ok"]
    tail = str(cell["output_tail"])
    assert "flood finished after" in tail  # the end of the output is kept ...
    assert len(tail) <= 12_100  # ... and bounded
    assert run.results is not None
    results_size = len(str(run.results))
    assert results_size < 100_000
    assert run.peak_rss_mb is not None
    fault_row.note = (
        f"harness peak RSS {run.peak_rss_mb:.0f} MB, results file {results_size // 1000} kB"
    )
    assert run.peak_rss_mb < 200, "sanity bound: the output must not be held in memory"
    assert run.code == 0


@pytest.mark.fault("4a", "helpers ignore SIGINT/SIGTERM (group, daemon)")
def test_stubborn_helpers(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    _, cell = run_fault("fault-stubborn-helpers", fault_row, fault_cache, fault_python, tmp_path)
    assert cell["outcome"] == "timeout"
    assert cell["stop"] == "SIGKILL"
    assert cell["exit_code"] == 0  # the server itself stopped; its helpers did not
    exit_detail = check(cell, "exit")["detail"]
    assert "still running" in exit_detail and "stopped with SIGKILL" in exit_detail
    assert "2 process(es) still running 1s after SIGTERM" in exit_detail
    assert check(cell, "log: both helpers started")["ok"]
    fault_row.note = "killed at the end of the grace period"


@pytest.mark.fault("4b", "--workers 2: workers ignore SIGINT/SIGTERM")
def test_deaf_workers(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    _, cell = run_fault("fault-deaf-workers", fault_row, fault_cache, fault_python, tmp_path)
    assert cell["outcome"] == "timeout"
    assert cell["stop"] == "SIGKILL"
    exit_detail = check(cell, "exit")["detail"]
    assert "still running 2s after SIGINT; stopped with SIGKILL" in exit_detail
    assert check(cell, "log: both workers ignore the stop signals")["ok"]
    fault_row.note = "killed at the end of the grace period"


@pytest.mark.fault("5", "the server exits 0 at once")
def test_exit_zero(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    run, cell = run_fault("fault-exit-zero", fault_row, fault_cache, fault_python, tmp_path)
    assert cell["outcome"] == "new-failure"
    assert cell["exit_code"] == 0
    assert "exited with code 0 before it was ready" in check(cell, "ready")["detail"]
    assert run.code == 1


@pytest.mark.fault("6", "responses never finish (stall, trickle)")
def test_never_finishes(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    _, cell = run_fault("fault-never-finishes", fault_row, fault_cache, fault_python, tmp_path)
    assert cell["outcome"] == "timeout"
    for path in ("/hang", "/trickle"):
        probe = check(cell, f"http GET {path}")
        assert not probe["ok"]
        assert "no complete response within 2s" in probe["detail"]
    assert "bytes of body so far" in check(cell, "http GET /trickle")["detail"]


@contextlib.contextmanager
def occupied_port() -> Iterator[int]:
    """A loopback port held by this test, answering HTTP exactly like the hello app,
    so a harness that talked to it instead of its own server would wrongly pass."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                with contextlib.suppress(OSError):
                    connection.recv(65536)
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"
                        b"content-length: 13\r\n\r\nHello, world!"
                    )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


PORT_TAKEN = """
id = "fault-port-taken"
title = "fault: the fixed port the scenario needs is already taken"
platforms = ["linux", "macos"]

[server]
app = "hello:app"
command = ["uvicorn", "{{app}}", "--host", "{{host}}", "--port", "{{port}}"]
port = {port}
ready = 'Uvicorn running on https?://(?P<host>[^\\s:]+):(?P<port>\\d+)'

[[expect.http]]
path = "/"
status = 200
body = "Hello, world!"
"""


@pytest.mark.fault("7", "the fixed port is already taken")
def test_fixed_port_taken(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    with occupied_port() as port:
        (folder / "port-taken.toml").write_text(textwrap.dedent(PORT_TAKEN.format(port=port)))
        args = ["--versions", FAULT_VERSION, "--python", fault_python]
        run = run_harness(args, fault_cache, tmp_path, scenarios=folder)
    cell = run.cell("fault-port-taken")
    left = leftovers([run.run_id], fault_cache)
    fault_row.outcome, fault_row.seconds, fault_row.left = (
        cell["outcome"],
        cell["duration_s"],
        len(left),
    )
    fault_row.bound_s = scenario_bound("fault-port-taken", folder)
    assert cell["outcome"] == "error"
    assert (
        f"port 127.0.0.1:{port}, which the scenario asks for, is already in use by pid"
        in cell["reason"]
    )
    assert "the server was not started" in cell["reason"]
    assert run.code == 2  # not the server's fault: an infrastructure exit code
    assert f"127.0.0.1:{port}" in run.stdout
    assert not left


HARNESS_PICKED = """
id = "picked-port"
title = "hello on a port the harness picks"

[server]
app = "hello:app"
command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]
ready = 'Uvicorn running on https?://(?P<host>[^\\s:]+):(?P<port>\\d+)'

[[expect.http]]
path = "/"
body = "Hello, world!"
"""


class FirstPortTaken(PortAllocator):
    """Hands out a port someone else holds first, as a race with another process would."""

    def __init__(self, taken: int) -> None:
        super().__init__()
        self.taken: int | None = taken

    def allocate(self, host: str = "127.0.0.1") -> int:
        if self.taken is not None:
            port, self.taken = self.taken, None
            return port
        return super().allocate(host)


@pytest.mark.fault("7b", "a picked port is taken before the bind")
def test_picked_port_taken_is_retried(
    fault_row: FaultRow, fault_cache: Path, fault_python: str, tmp_path: Path
) -> None:
    """The real runner and a real server, with the allocator rigged to lose the race."""
    scenario_file = tmp_path / "picked-port.toml"
    scenario_file.write_text(HARNESS_PICKED)
    scenario = load_scenario(scenario_file)
    interpreter = InterpreterFinder().resolve(fault_python).interpreter
    assert interpreter is not None
    spec = EnvSpec("uvicorn", Version(FAULT_VERSION), interpreter, "uv")
    env = EnvCache(fault_cache, UvBackend(), discover_index_config()).ensure(spec)
    with occupied_port() as port:
        runner = CellRunner(FirstPortTaken(port), threading.Event(), tmp_path / "scratch")
        observation = runner.run(scenario, env.python)
    fault_row.outcome = "pass" if observation.all_ok else "failed"
    fault_row.seconds, fault_row.bound_s = observation.duration_s, scenario.max_duration_s()
    fault_row.left = observation.leftover_processes
    fault_row.note = "retried on a fresh port"
    assert observation.all_ok, observation.checks
    assert any(
        f"port 127.0.0.1:{port} was already in use by pid" in note and "retried" in note
        for note in observation.notes
    ), observation.notes
    assert observation.address is not None and not observation.address.endswith(f":{port}")
