"""How a server's process tree is started, stopped and killed on each OS.

One small interface with one implementation per OS family, so the runner and
the process registry never branch on the platform themselves, and each
strategy can be unit-tested anywhere with fake system calls:

* POSIX (Linux, macOS): a new session; signals go to the whole process group
  with `killpg`; the last resort is SIGKILL to the group.  macOS answers EPERM
  (Linux: success) for a group that holds only zombies, e.g. a leader that
  exited and is not reaped yet; there EPERM is read as "nothing left", after
  signalling any live member one by one in case it was a real refusal.
* Windows: a new process group (`CREATE_NEW_PROCESS_GROUP`); there are no
  POSIX signals between processes, so a graceful stop is `CTRL_BREAK_EVENT` to
  the group (CTRL_C cannot be sent to a new group), and anything harder (a
  "SIGTERM" or the last resort) is `taskkill /T /F`, which ends the whole tree
  while the leader still links it.  Descendants known before are killed one by
  one afterwards by the registry (`kill_tree`), so a dead leader leaks nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # psutil is imported where it is used: the Windows strategy needs only
    import psutil  # the standard library, so it can be exercised in a bare Windows Python

#: Win32 values, so the Windows strategy can be built (and tested) anywhere.
CTRL_C_EVENT = 0
CTRL_BREAK_EVENT = 1
CREATE_NEW_PROCESS_GROUP = 0x00000200
TASKKILL_TIMEOUT_S = 10.0
#: taskkill's exit code when no such process exists (it ended already).
TASKKILL_NOT_FOUND = 128

Runner = Callable[[Sequence[str], float], int]


class ProcessControl(Protocol):
    """The OS-specific part of starting and stopping a server's process tree."""

    name: str

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `subprocess.Popen` that put the child in its own group."""
        ...

    def stop_signal(self, requested: str) -> int:
        """The signal that delivers a scenario's `SIGINT`/`SIGTERM` stop on this OS."""
        ...

    def signal_group(self, leader_pid: int, signum: int) -> bool:
        """Send `signum` to the leader's group; False when nothing was there to receive it."""
        ...

    def kill_group(self, leader_pid: int) -> None:
        """The last resort: end the whole group now (the caller still reaps members)."""
        ...


def _members(leader_pid: int) -> list[psutil.Process]:
    import psutil

    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == leader_pid:
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def _live(process: psutil.Process) -> bool:
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class PosixControl:
    """Linux and macOS: sessions and process groups."""

    name = "posix"

    def __init__(
        self,
        killpg: Callable[[int, int], None] | None = None,
        members: Callable[[int], list[psutil.Process]] = _members,
        zombie_eperm: bool = False,
    ) -> None:
        self._killpg = killpg or getattr(os, "killpg", None)
        self._members = members
        #: macOS: `killpg` fails with EPERM when only zombies are left in the group.
        self.zombie_eperm = zombie_eperm

    def popen_kwargs(self) -> dict[str, Any]:
        return {"start_new_session": True}

    def stop_signal(self, requested: str) -> int:
        return int(getattr(signal, requested))

    def signal_group(self, leader_pid: int, signum: int) -> bool:
        assert self._killpg is not None
        try:
            self._killpg(leader_pid, signum)
        except ProcessLookupError:
            return False
        except PermissionError:
            if not self.zombie_eperm:
                return False
            return self._signal_members(leader_pid, signum)
        return True

    def _signal_members(self, leader_pid: int, signum: int) -> bool:
        import psutil

        sent = False
        for process in self._members(leader_pid):
            if not _live(process):
                continue
            with contextlib.suppress(psutil.Error):
                process.send_signal(signum)
                sent = True
        return sent

    def kill_group(self, leader_pid: int) -> None:
        self.signal_group(leader_pid, int(getattr(signal, "SIGKILL", 9)))


def _run_bounded(argv: Sequence[str], timeout_s: float) -> int:
    try:
        completed = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return -1
    return completed.returncode


class WindowsControl:
    """Windows: process groups, console control events and `taskkill /T /F`."""

    name = "windows"

    def __init__(
        self,
        kill: Callable[[int, int], None] | None = None,
        run: Runner = _run_bounded,
    ) -> None:
        self._kill = kill or os.kill
        self._run = run

    def popen_kwargs(self) -> dict[str, Any]:
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", CREATE_NEW_PROCESS_GROUP)
        return {"creationflags": flags}

    def stop_signal(self, requested: str) -> int:
        # Both polite stops arrive as CTRL_BREAK (SIGBREAK in the child): CTRL_C is
        # ignored by processes in a new group, and a real SIGTERM would be
        # TerminateProcess, which cannot be caught.
        return int(getattr(signal, "CTRL_BREAK_EVENT", CTRL_BREAK_EVENT))

    def signal_group(self, leader_pid: int, signum: int) -> bool:
        if signum in (CTRL_BREAK_EVENT, CTRL_C_EVENT):
            try:
                self._kill(leader_pid, signum)  # GenerateConsoleCtrlEvent to the group
            except OSError:
                return False
            return True
        return self._taskkill(leader_pid)

    def kill_group(self, leader_pid: int) -> None:
        self._taskkill(leader_pid)

    def _taskkill(self, leader_pid: int) -> bool:
        """End the tree under the leader (`/T`); where `/T` is refused (Wine's
        taskkill), at least the leader (the registry kills known members after)."""
        tree = self._run(["taskkill", "/PID", str(leader_pid), "/T", "/F"], TASKKILL_TIMEOUT_S)
        if tree in (0, TASKKILL_NOT_FOUND):
            return tree == 0
        return self._run(["taskkill", "/PID", str(leader_pid), "/F"], TASKKILL_TIMEOUT_S) == 0


def control_for(platform: str = sys.platform) -> ProcessControl:
    """The strategy for a `sys.platform` value."""
    if platform in ("win32", "cygwin"):
        return WindowsControl()
    return PosixControl(zombie_eperm=platform == "darwin")


#: The strategy of the OS this harness runs on.
CONTROL: ProcessControl = control_for()
