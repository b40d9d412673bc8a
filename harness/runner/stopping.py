"""Stop a started server, reap it, and report whatever was left running.

The scenario's stop signal goes to the session (or only the parent, as asked);
past `within_s` comes SIGTERM to the group and to marked members that left it,
then SIGKILL once `kill_grace_s` is over.  A server that must exit by itself is
only escalated on.  Reaping kills the whole session and every process carrying
the spawn's marker, so nothing outlives the cell.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence

import psutil

from harness.procs.registry import (
    REGISTRY,
    alive_members,
    describe,
    kill_tree,
    signal_group,
    signal_parent,
    wait_exit,
)
from harness.runner.launch import Launched
from harness.runner.observation import Check, Findings


def _wait_session(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait for the leader and then every session member, within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    if not wait_exit(process, timeout_s):
        return False
    delay = 0.005
    while alive_members(process.pid):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.1)
    return True


def _names(processes: Sequence[psutil.Process], limit: int = 4) -> str:
    shown = ", ".join(describe(process) for process in processes[:limit])
    more = f" and {len(processes) - limit} more" if len(processes) > limit else ""
    return shown + more


def stop(server: Launched, found: Findings) -> None:
    """End the server the way the scenario asks, recording the "exit" check."""
    if server.scenario.exit.signal == "none":
        _await_own_exit(server, found)
    else:
        _signal_stop(server, found)


def _await_own_exit(server: Launched, found: Findings) -> None:
    """`signal = "none"`: the server must exit by itself within `within_s`."""
    expectation = server.scenario.exit
    since = time.monotonic()
    if _wait_session(server.process, expectation.within_s):
        _record_exit(server, found, "by itself", time.monotonic() - server.started)
        return
    _escalate(
        server,
        found,
        f"still running {expectation.within_s:g}s later (it should exit by itself)",
        server.started,
    )
    found.stop_how = f"{found.stop_how} after {time.monotonic() - since:.1f}s"


def _record_exit(server: Launched, found: Findings, how: str, took: float) -> None:
    expectation = server.scenario.exit
    code = server.process.returncode
    found.exit_code = code
    ok = not expectation.codes or code in expectation.codes
    detail = f"exit code {code} {took:.2f}s after {'start' if how == 'by itself' else how}"
    if not ok:
        detail += f" (wanted {', '.join(map(str, expectation.codes))})"
    found.stop_how = f"{how} ({took:.2f}s)"
    found.checks.append(Check("exit", ok, detail, elapsed_s=took))


def _signal_stop(server: Launched, found: Findings) -> None:
    """SIGINT (as asked) → wait → SIGTERM → grace → SIGKILL, on the whole session."""
    expectation = server.scenario.exit
    process = server.process
    if process.poll() is not None:
        code = process.returncode
        found.exit_code = code
        found.stop_how = "exited by itself"
        detail = f"exited by itself with code {code} before the stop signal"
        found.checks.append(Check("exit", False, detail))
        return
    signum = server.launcher.stop_signal(expectation.signal)
    sent = time.monotonic()
    send = signal_group if expectation.target == "group" else signal_parent
    send(process.pid, signum)
    if _wait_session(process, expectation.within_s):
        _record_exit(server, found, expectation.signal, time.monotonic() - sent)
        return
    leader_code = process.poll()
    if leader_code is not None:
        why = (
            f"the server exited with code {leader_code} after {expectation.signal}, but "
            f"processes of its session were still running {expectation.within_s:g}s later"
        )
    else:
        why = f"still running {expectation.within_s:g}s after {expectation.signal}"
    _escalate(server, found, why, sent)


def _escalate(server: Launched, found: Findings, why: str, since: float) -> None:
    """SIGTERM to the group (and to members that left it), then SIGKILL after the grace.

    `since`: when the wait for the exit began (the start, or the stop signal)."""
    process = server.process
    signal_group(process.pid, int(signal.SIGTERM))
    for member in alive_members(process.pid, server.token, deep=True):
        if member.pid != process.pid:
            signal_parent(member.pid, int(signal.SIGTERM))
    grace = server.scenario.limits.kill_grace_s
    detail = why
    if _wait_session(process, grace):
        how = "SIGTERM"
        detail += "; stopped with SIGTERM"
    else:
        stubborn = alive_members(process.pid, server.token, deep=True)
        kill_tree(process.pid, server.token)
        process.wait(timeout=5)
        how = "SIGKILL"
        detail += f"; stopped with SIGKILL at the end of the {grace:g}s grace"
        if stubborn:
            detail += (
                f"; {len(stubborn)} process(es) still running {grace:g}s after SIGTERM: "
                f"{_names(stubborn)}"
            )
    found.exit_code = process.returncode
    found.stop_how = how
    found.stop_timed_out = True
    elapsed = time.monotonic() - since
    found.checks.append(Check("exit", False, detail, timed_out=True, elapsed_s=elapsed))


def reap(server: Launched, found: Findings) -> list[psutil.Process]:
    """Kill whatever is left of the session (and marked members outside it), wait
    for the leader and the output reader; returns the processes that were left."""
    process = server.process
    leftovers = alive_members(process.pid, server.token, deep=True)
    if process.poll() is None or leftovers:
        kill_tree(process.pid, server.token)
    if process.poll() is None:
        process.wait(timeout=5)
    REGISTRY.discard(process)
    if not server.capture.join(5.0):
        found.notes.append("output pipe still open after the server was killed")
    return leftovers


def check_leftovers(found: Findings, leftovers: Sequence[psutil.Process]) -> None:
    """The "stopped" check: nothing of the server may outlive its stop."""
    if leftovers:
        found.checks.append(
            Check(
                "stopped",
                False,
                f"{len(leftovers)} process(es) still running after the server stopped, "
                f"killed: {_names(leftovers)}",
            )
        )
    elif found.ready:
        found.checks.append(Check("stopped", True, "no process of the server left"))
