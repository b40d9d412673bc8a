"""Stop a server the moment it listens beyond loopback.

The loader refuses every non-loopback host a scenario names (`harness.scenario.hosts`),
but an app can bind `0.0.0.0` by itself, after start-up, from any process of
its tree.  While a cell's server runs, this guard looks at the machine's
listening sockets many times a second; a new listener beyond loopback that
belongs to the server's processes gets the whole tree killed at once, and the
cell ends as an `error` saying where it listened.

On Linux one look is a sock_diag dump of listening sockets (tens of
microseconds), compared with the listeners that were there before the server
started; only a new one costs a look at the server's processes.  Elsewhere
the server's processes are asked for their sockets, less often.  Under an
emulator whose sockets belong to a shared process (Wine's wineserver) the
guard cannot tell whose a listener is and does not run (see SECURITY.md).
"""

from __future__ import annotations

import subprocess
import threading

from harness.procs.registry import alive_members, kill_tree
from harness.runner.ports import is_loopback, listening_sockets
from harness.runner.sockets import Listening, listening_table, socket_inodes

#: Between two looks at the listening sockets, on Linux and elsewhere.
INTERVAL_S = 0.05
SLOW_INTERVAL_S = 0.2


def _public(table: Listening) -> dict[int, tuple[str, int]]:
    return {inode: address for inode, address in table.items() if not is_loopback(address[0])}


class LoopbackGuard:
    """Watches one server's process tree; `reason` says why it killed it (else None)."""

    def __init__(self) -> None:
        """Created just before the spawn: listeners that exist now are not the server's."""
        table = listening_table()
        self._fast = table is not None
        self._foreign: set[int] = set(_public(table)) if table is not None else set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reason: str | None = None

    def watch(self, process: subprocess.Popen[bytes], token: str | None) -> None:
        """Start watching the spawned server (its session and its marked processes)."""
        self._thread = threading.Thread(
            target=self._run, args=(process, token), name="loopback-guard", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self, process: subprocess.Popen[bytes], token: str | None) -> None:
        interval = INTERVAL_S if self._fast else SLOW_INTERVAL_S
        # `returncode`, not `poll()`: the guard must never reap the server, nor hold
        # the Popen's wait lock while the runner waits for the exit.
        while process.returncode is None and not self._stop.is_set():
            look = self._look_fast if self._fast else self._look
            found = look(process.pid, token)
            if found:
                self.reason = (
                    f"the server listened beyond loopback on {', '.join(sorted(found))}; "
                    "the harness stopped it at once (servers may only listen on loopback)"
                )
                kill_tree(process.pid, token)
                return
            self._stop.wait(interval)

    def _look_fast(self, pid: int, token: str | None) -> set[str]:
        table = listening_table()
        if table is None:
            return set()
        public = _public(table)
        new = set(public) - self._foreign
        if not new:
            return set()
        members = [member.pid for member in alive_members(pid, token, deep=True)]
        owned, _ = socket_inodes(members)
        self._foreign |= new - owned
        return {f"{public[inode][0]}:{public[inode][1]}" for inode in new & owned}

    def _look(self, pid: int, token: str | None) -> set[str]:
        members = [member.pid for member in alive_members(pid, token)]
        sockets, _ = listening_sockets(members)
        return {f"{address}:{port}" for address, port in sockets if not is_loopback(address)}
