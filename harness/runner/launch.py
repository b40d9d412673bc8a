"""Plan and start one cell's server: argv, environment, placeholders, output capture.

The scenario's command template becomes an argument list (never a shell line)
with every placeholder filled from the cell: the interpreter, app, scratch
folder, endpoint and matrix axes.  Only an allow-list of the harness's own
environment reaches the server, so two machines run the same cell the same way.
The launcher (native, or an emulator for another platform) decides how the
interpreter is invoked and what its environment needs.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.procs.registry import REGISTRY, spawn
from harness.runner.endpoints import Endpoint
from harness.runner.loopback_guard import LoopbackGuard
from harness.runner.output import LineWatch, OutputCapture
from harness.runner.probes.state import IMPORT_LOG_ENV, import_log_path
from harness.runner.stranded import TRACEBACK
from harness.scenario.app_dir import LAUNCHER
from harness.scenario.checks import HttpProbe
from harness.scenario.model import Scenario
from harness.scenario.placeholders import render
from harness.targets.launchers import NATIVE, Launcher

#: Variables passed through from the harness's environment; nothing else leaks in.
ENV_ALLOW_LIST = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA",
    "LOCALAPPDATA",
)  # fmt: skip


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    host: str
    port: int
    values: dict[str, str] = field(default_factory=dict)
    #: Check name -> why it does not apply in this cell (it is recorded, not run).
    skipped_checks: Mapping[str, str] = field(default_factory=dict)
    #: The app's capability probes, asked before the scenario's own.
    capabilities: tuple[HttpProbe, ...] = ()


def pycache_prefix(workdir: Path) -> Path:
    """Where servers write bytecode: the run's scratch folder, which holds every
    cell's folder, never the app folder (the harness's `server/` included).
    Shared by the run's cells, so the standard library is compiled there once
    per interpreter and run, not at every start (about 0.5 s each)."""
    return workdir.parent / "pycache"


def server_env(
    scenario: Scenario, env_python: Path, values: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {name: os.environ[name] for name in ENV_ALLOW_LIST if name in os.environ}
    env["PATH"] = os.pathsep.join([str(env_python.parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(scenario.server.app_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if values is not None and "workdir" in values:
        env[IMPORT_LOG_ENV] = str(import_log_path(Path(values["workdir"])))
        env["PYTHONPYCACHEPREFIX"] = str(pycache_prefix(Path(values["workdir"])))
    for name, value in scenario.server.env.items():
        env[name] = render(value, values) if values is not None else value
    return env


def plan_launch(
    scenario: Scenario,
    env_python: Path,
    endpoint: Endpoint,
    workdir: Path,
    axes: Mapping[str, str] | None = None,
    launcher: Launcher = NATIVE,
) -> LaunchPlan:
    """Turn the scenario's command template into an argument list (no shell)."""
    spec = scenario.server
    values = {
        **dict(axes or {}),
        "app": spec.app,
        "app_dir": str(spec.app_dir),
        "launcher": str(LAUNCHER),
        "python": str(env_python),
        "workdir": str(workdir),
        **endpoint.placeholders(),
    }
    head, *rest = spec.command
    prefix = launcher.argv_prefix(env_python, head)
    argv = prefix + [render(token, values) for token in rest]
    return LaunchPlan(
        argv=argv,
        env=launcher.environment(server_env(scenario, env_python, values), spec.app_dir),
        cwd=workdir,
        host=spec.host,
        port=endpoint.port,
        values=values,
    )


@dataclass(frozen=True)
class Launched:
    """One started server, as the later stages need it: the process, its spawn
    marker (to find members that left the session) and its watched output."""

    scenario: Scenario
    endpoint: Endpoint
    plan: LaunchPlan
    launcher: Launcher
    cancel: threading.Event
    #: `time.monotonic()` just before the spawn; readiness and duration count from it.
    started: float
    process: subprocess.Popen[bytes]
    token: str | None
    capture: OutputCapture
    #: The watch for the scenario's ready line, None when it has none.
    ready_watch: LineWatch | None
    #: One watch per `scenario.logs` entry, in order.
    log_watches: list[LineWatch]
    #: Python tracebacks, which the stranded-worker give-up needs to have seen.
    traceback_watch: LineWatch
    #: Kills the server if it listens beyond loopback (None under an emulator).
    guard: LoopbackGuard | None = None

    def exited(self) -> bool:
        """Ends a wait early: the server is gone, or the run is being cancelled."""
        return self.process.poll() is not None or self.cancel.is_set()


def start(
    scenario: Scenario,
    endpoint: Endpoint,
    plan: LaunchPlan,
    launcher: Launcher,
    cancel: threading.Event,
) -> Launched:
    """Spawn the planned server in its own session and start reading its output.

    The endpoint's listening socket (if the harness held one) is released as
    soon as the child has it.  The caller must reap the process, whatever happens.
    """
    spec = scenario.server
    patterns = [p for p in [spec.ready_pattern] if p is not None]
    patterns += [log.pattern for log in scenario.logs]
    patterns.append(TRACEBACK)
    launcher.prepare()
    guard = None if launcher.sockets_hidden else LoopbackGuard()
    started = time.monotonic()
    process = spawn(plan.argv, cwd=plan.cwd, env=plan.env, **endpoint.spawn_options())
    token = REGISTRY.token_of(process.pid)
    if guard is not None:
        guard.watch(process, token)
    endpoint.release()
    assert process.stdout is not None
    capture = OutputCapture(process.stdout, patterns, cancel=cancel).start()
    offset = 1 if spec.ready_pattern is not None else 0
    return Launched(
        scenario=scenario,
        endpoint=endpoint,
        plan=plan,
        launcher=launcher,
        cancel=cancel,
        started=started,
        process=process,
        token=token,
        capture=capture,
        ready_watch=capture.watches[0] if offset else None,
        log_watches=capture.watches[offset:-1],
        traceback_watch=capture.watches[-1],
        guard=guard,
    )
