"""The seed scenarios' checks, written the way a user would: stdlib only, no harness.

Shared by the baselines the benchmark compares the harness with (the noxfile
and the minimal driver), so every way runs exactly the same checks:

* port-zero-startup: `uvicorn hello:app --port 0`; read the announced port from
  "Uvicorn running on http://HOST:PORT"; GET / is 200 "Hello, world!"; SIGINT to
  the process group; exit code 0 within 10 s; no process of the group left.
* two-worker-startup: `uvicorn best:app --port P --workers 2`; the ready line;
  two distinct "Started server process [PID]" and two "Application startup
  complete" lines; GET / is 200 "Uvicorn is the best!"; SIGINT to the group;
  exit code 0 within 15 s; no process of the group left.

`check(python, scenario, app_dir)` returns (passed, one-line reason).  Every wait
is bounded by the same limits as the scenario files; no fixed sleeps.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"Uvicorn running on https?://([^\s:]+):(\d+)")
WORKER = re.compile(r"Started server process \[(\d+)\]")
STARTED = re.compile(r"Application startup complete")


@dataclass(frozen=True)
class Spec:
    app: str
    body: str
    workers: int
    ready_s: float
    log_s: float
    stop_s: float


SCENARIOS = {
    "port-zero-startup": Spec("hello:app", "Hello, world!", 1, 20.0, 10.0, 10.0),
    "two-worker-startup": Spec("best:app", "Uvicorn is the best!", 2, 30.0, 20.0, 15.0),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(app_dir: Path) -> dict[str, str]:
    """The caller's environment, but with bytecode caching on: a user's
    PYTHONDONTWRITEBYTECODE would make every start compile uvicorn again."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(app_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _get(port: int, deadline: float) -> tuple[int, str]:
    """GET / on loopback; connection refused is retried until the deadline."""
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)  # backoff between refused connects, not a fixed wait
        finally:
            connection.close()


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs.  Zombies do not count: an
    orphan stays one until init reaps it, which can take a second or more."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: the signal test (counts zombies too)
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in os.listdir(proc):
        if entry.isdigit():
            try:
                stat = (proc / entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _group_gone(pgid: int, deadline: float) -> bool:
    """Wait (bounded, with backoff) until no process of the group is left: the
    leader exits first, helpers such as multiprocessing's tracker just after."""
    delay = 0.002
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(delay)
        delay = min(2 * delay, 0.05)
    return True


def check(
    python: str, scenario: str, app_dir: Path, env: dict[str, str] | None = None
) -> tuple[bool, str]:
    spec = SCENARIOS[scenario]
    argv = [python, "-m", "uvicorn", spec.app, "--host", "127.0.0.1", "--port"]
    argv += ["0"] if spec.workers == 1 else [str(free_port()), "--workers", str(spec.workers)]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env if env is not None else server_env(app_dir),
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    port = 0
    workers: set[str] = set()
    started = 0
    eof = False

    def read_until(done: Callable[[], object], limit_s: float) -> bool:
        nonlocal port, started, eof
        deadline = time.monotonic() + limit_s
        while not done():
            if eof:
                return False
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line is None:
                eof = True
                continue
            ready = READY.search(line)
            if ready and not port:
                port = int(ready.group(2))
            workers.update(WORKER.findall(line))
            started += len(STARTED.findall(line))
        return True

    try:
        if not read_until(lambda: port, spec.ready_s):
            return False, f"no ready line (exit code {process.poll()})"
        status, body = _get(port, time.monotonic() + spec.ready_s)
        if (status, body) != (200, spec.body):
            return False, f"GET / answered {status} {body[:60]!r}"
        if spec.workers > 1 and not read_until(
            lambda: len(workers) >= spec.workers and started >= spec.workers, spec.log_s
        ):
            return False, f"{len(workers)} worker pid(s), {started} start-up(s) completed"
        if process.poll() is not None:
            return False, f"exited with code {process.returncode} before the stop signal"
        os.killpg(process.pid, signal.SIGINT)
        try:
            code = process.wait(timeout=spec.stop_s)
        except subprocess.TimeoutExpired:
            return False, f"still running {spec.stop_s:g}s after SIGINT"
        if not _group_gone(process.pid, deadline=time.monotonic() + spec.stop_s):
            return False, "processes of the server's group still running after it exited"
        if code != 0:
            return False, f"exit code {code} after SIGINT"
        return True, "all checks held"
    except OSError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
