"""A server whose workers all died while its parent keeps running, seen early.

Some servers bind in a parent process and serve only from worker processes
(uvicorn before 0.12 with `--workers`: the parent binds without listening).
When every worker dies at start-up, the parent neither exits nor accepts, and
waiting for a connection would last the scenario's whole readiness bound.  This
module recognises that state from the process table: the parent is alive, at
least one of its children has exited and is not yet reaped (a zombie), and no
child is alive except multiprocessing's own helpers.  The runner gives up only
when the output also holds a Python traceback and the state has lasted
`SETTLE_S` while connections are still refused, so a parent that restarts its
workers is waited for as before.
"""

from __future__ import annotations

import re
import time

import psutil

#: How long the state must hold before the runner stops waiting: long enough for
#: a supervisor to notice a dead worker and start another one.
SETTLE_S = 1.0

#: A Python traceback's first line, as a line pattern for the output capture.
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):")

#: Children that never serve: multiprocessing's helper processes (resource
#: tracker since 3.8, semaphore tracker before, fork server).
_HELPERS = (
    "multiprocessing.resource_tracker",
    "multiprocessing.semaphore_tracker",
    "multiprocessing.forkserver",
)


def dead_workers(leader_pid: int) -> int:
    """How many children of `leader_pid` have exited, when no other child is alive
    (helpers aside); 0 when a worker is alive, none has exited, or the leader is gone."""
    try:
        children = psutil.Process(leader_pid).children()
    except psutil.Error:
        return 0
    dead = 0
    for child in children:
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                dead += 1
                continue
            command = " ".join(child.cmdline())
        except psutil.Error:  # exited just now and already reaped: not serving either
            continue
        if not any(helper in command for helper in _HELPERS):
            return 0
    return dead


class StrandedWatch:
    """Tells the connect loop to stop once the workers are dead for good."""

    def __init__(self, leader_pid: int) -> None:
        self.leader_pid = leader_pid
        self._since: float | None = None
        #: Set when the watch gave up: what it saw, for the ready check's detail.
        self.reason: str | None = None

    def stranded(self, traceback_seen: bool) -> bool:
        """Called between refused connection attempts."""
        dead = dead_workers(self.leader_pid) if traceback_seen else 0
        now = time.monotonic()
        if dead == 0:
            self._since = None
            return False
        if self._since is None:
            self._since = now
            return False
        if now - self._since < SETTLE_S:
            return False
        self.reason = (
            f"{dead} worker process(es) exited with a traceback and none is left to "
            f"serve, while the parent keeps running"
        )
        return True
