"""Wait until a started server is ready: its ready line, then an accepted connection.

Every wait is bounded by the scenario's `ready_s` (and `connect_s` after the
ready line) and ends early on what it waits for, or when the server exits, the
run is cancelled, or all its workers died with a traceback while the parent
keeps running (see `stranded`).  Once ready, the port the harness talks to must
be the server's own and the server must listen on loopback only.
"""

from __future__ import annotations

import re
import time

from harness.procs.registry import alive_members, wait_exit
from harness.runner.endpoints import Address, wait_until_accepting
from harness.runner.launch import Launched
from harness.runner.observation import Check, Findings
from harness.runner.ports import ADDRESS_IN_USE, is_loopback, listening_sockets, port_holder
from harness.runner.stranded import StrandedWatch


def _as_port(text: str) -> int:
    """The announced port as a number; -1 when the ready line captured something else."""
    if re.fullmatch(r"[0-9]{1,5}", text) and int(text) <= 65535:
        return int(text)
    return -1


def await_ready(server: Launched, found: Findings) -> Address | None:
    """The address to probe once the server is ready; None (with a failed
    "ready" check in `found`) when it never was."""
    return _Readiness(server, found).wait()


def port_conflict(server: Launched) -> str | None:
    """When the server died saying its port is taken, and someone else has it."""
    if not ADDRESS_IN_USE.search(server.capture.text()):
        return None
    plan = server.plan
    holder = port_holder(plan.host, plan.port)
    if holder is None:
        return None
    return f"port {plan.host}:{plan.port} was already in use by {holder}"


class _Readiness:
    """One wait for readiness; holds the stranded-worker watch between connects."""

    def __init__(self, server: Launched, found: Findings) -> None:
        self.server = server
        self.found = found
        self.stranded = StrandedWatch(server.process.pid)

    def _not_ready(self, waiting_for: str, timed_out: str) -> None:
        """`waiting_for`: what never happened; `timed_out`: the detail if time ran out."""
        server, found = self.server, self.found
        if server.process.poll() is not None:
            code = server.process.returncode
            detail = f"exited with code {code} before it was ready (waiting for {waiting_for})"
        elif server.cancel.is_set():
            detail = "interrupted before the server was ready"
        elif self.stranded.reason is not None:
            elapsed = time.monotonic() - server.started
            detail = f"{self.stranded.reason}; gave up on {waiting_for} after {elapsed:.1f}s"
        else:
            found.ready_timed_out = True
            detail = timed_out
        found.checks.append(Check("ready", False, detail, timed_out=found.ready_timed_out))

    def _give_up_connecting(self, delay: float) -> bool:
        """Between refused connects: the server exited, or its workers all died."""
        server = self.server
        if wait_exit(server.process, delay):
            return True
        if server.launcher.sockets_hidden:  # under an emulator the process tree is not the server's
            return False
        return self.stranded.stranded(server.traceback_watch.count > 0)

    def wait(self) -> Address | None:
        """The ready line (if the scenario has one), then an accepted connection."""
        server, found = self.server, self.found
        limits = server.scenario.limits
        pattern = server.scenario.server.ready_pattern
        announced: dict[str, str] = {}
        if pattern is not None and server.ready_watch is not None:
            watch = server.ready_watch
            saw_line = server.capture.wait_until(
                lambda: watch.count > 0, limits.ready_s, server.exited
            )
            if not saw_line and server.capture.eof and server.process.poll() is None:
                # The output ended first; the exit usually follows within moments.
                left = limits.ready_s - (time.monotonic() - server.started)
                wait_exit(server.process, max(0.0, left))
            if not saw_line:
                waited = (
                    f"closed its output without printing a line matching /{pattern.pattern}/ "
                    f"and kept running for {limits.ready_s:g}s"
                    if server.capture.eof
                    else f"no line matching /{pattern.pattern}/ within {limits.ready_s:g}s"
                )
                self._not_ready(f"a line matching /{pattern.pattern}/", waited)
                return None
            announced = watch.first or {}
        port_text = announced.get("port")
        port = _as_port(port_text) if port_text is not None else None
        target = server.endpoint.target(announced.get("host"), port)
        found.address = target.describe()
        if server.endpoint.kind == "tcp" and target.port == 0:
            found.checks.append(Check("ready", False, "announced port 0, not a real bound port"))
            return None
        if server.endpoint.kind == "tcp" and target.port < 0:
            detail = f"announced port {port_text!r} is not a port"
            found.checks.append(Check("ready", False, detail))
            return None
        if server.endpoint.kind == "fd":
            # A passed socket accepts (into its backlog) from the start: the
            # ready line is the signal; the probes then show who answers.
            found.ready = True
            found.checks.append(Check("ready", True, f"serving the passed socket {found.address}"))
            found.checks.extend(self._socket_checks(target.port))
            return target
        budget = max(0.0, limits.ready_s - (time.monotonic() - server.started))
        if pattern is not None and limits.connect_s is not None:
            budget = min(budget, limits.connect_s)
        if not wait_until_accepting(target, budget, self._give_up_connecting):
            said = f"announced it serves but {found.address}" if pattern else found.address
            self._not_ready(
                f"{found.address} accepted connections",
                f"{said} refused connections for {budget:g}s",
            )
            return None
        found.ready = True
        found.checks.append(Check("ready", True, f"accepting on {found.address}"))
        found.checks.extend(self._socket_checks(target.port if target.uds is None else None))
        return target

    def _socket_checks(self, port: int | None) -> list[Check]:
        """The port we talk to is the server's own (`port`; None for a Unix socket),
        and the server listens on loopback only."""
        server = self.server
        if server.launcher.sockets_hidden:
            if port is None:
                return []
            return [Check("port", True, f"port {port} accepts ({server.launcher.sockets_hidden})")]
        members = [m.pid for m in alive_members(server.process.pid, server.token, deep=True)]
        sockets, visible = listening_sockets(members)
        if not visible:
            if port is None:
                return []
            return [Check("port", True, f"port {port} accepts (ownership not visible here)")]
        owned = sorted({p for _, p in sockets})
        checks = []
        if port is not None:
            detail = f"port {port}; the server's processes listen on {owned or 'no port'}"
            checks.append(Check("port", port in owned, detail))
        public = sorted(f"{address}:{p}" for address, p in sockets if not is_loopback(address))
        if public:
            detail = f"the server listens beyond loopback: {', '.join(public)}"
            checks.append(Check("loopback", False, detail))
        return checks
