"""Per-OS process control: fakes for Windows and macOS, the real thing for POSIX here."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import psutil
import pytest

from harness.procs.control import (
    CREATE_NEW_PROCESS_GROUP,
    CTRL_BREAK_EVENT,
    PosixControl,
    WindowsControl,
    control_for,
)


class FakeRunner:
    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout_s: float) -> int:
        assert 0 < timeout_s <= 30, "every helper command is bounded"
        self.calls.append(list(argv))
        return self.codes.pop(0)


def test_the_strategy_follows_the_platform() -> None:
    assert isinstance(control_for("win32"), WindowsControl)
    mac = control_for("darwin")
    assert isinstance(mac, PosixControl) and mac.zombie_eperm
    linux = control_for("linux")
    assert isinstance(linux, PosixControl) and not linux.zombie_eperm


def test_windows_starts_a_new_group_and_stops_with_ctrl_break() -> None:
    sent: list[tuple[int, int]] = []
    control = WindowsControl(kill=lambda pid, sig: sent.append((pid, sig)), run=FakeRunner())
    assert control.popen_kwargs() == {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", CREATE_NEW_PROCESS_GROUP)
    }
    assert control.stop_signal("SIGINT") == control.stop_signal("SIGTERM") == CTRL_BREAK_EVENT
    assert control.signal_group(4242, CTRL_BREAK_EVENT)
    assert sent == [(4242, CTRL_BREAK_EVENT)]


def test_windows_ctrl_break_without_a_console_reports_failure() -> None:
    def refuse(pid: int, sig: int) -> None:
        raise OSError(12, "Invalid access")  # what Wine answers without a console

    control = WindowsControl(kill=refuse, run=FakeRunner())
    assert not control.signal_group(4242, CTRL_BREAK_EVENT)


def test_windows_terminate_and_kill_end_the_tree_with_taskkill() -> None:
    runner = FakeRunner(0, 0)
    control = WindowsControl(kill=lambda pid, sig: None, run=runner)
    assert control.signal_group(4242, int(signal.SIGTERM))
    control.kill_group(4243)
    assert runner.calls == [
        ["taskkill", "/PID", "4242", "/T", "/F"],
        ["taskkill", "/PID", "4243", "/T", "/F"],
    ]


def test_windows_taskkill_without_tree_support_still_ends_the_leader() -> None:
    runner = FakeRunner(1, 0)  # Wine 8: "/T" is an unknown option
    control = WindowsControl(kill=lambda pid, sig: None, run=runner)
    assert control.signal_group(4242, int(signal.SIGTERM))
    assert runner.calls[1] == ["taskkill", "/PID", "4242", "/F"]
    gone = FakeRunner(128)  # the tree had ended already: nothing to retry
    assert not WindowsControl(kill=lambda pid, sig: None, run=gone).signal_group(1, 15)
    assert len(gone.calls) == 1


class FakeProcess:
    def __init__(self, pid: int, status: str) -> None:
        self.pid = pid
        self._status = status
        self.signals: list[int] = []

    def status(self) -> str:
        return self._status

    def send_signal(self, signum: int) -> None:
        self.signals.append(signum)


def test_macos_eperm_on_a_zombie_only_group_means_nothing_is_left() -> None:
    def eperm(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    zombie = FakeProcess(10, psutil.STATUS_ZOMBIE)
    control = PosixControl(killpg=eperm, members=lambda pid: [zombie], zombie_eperm=True)  # type: ignore[list-item,return-value,arg-type]
    assert not control.signal_group(10, int(signal.SIGTERM))
    assert zombie.signals == []


def test_macos_eperm_with_a_live_member_signals_it_directly() -> None:
    def eperm(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    zombie, worker = FakeProcess(10, psutil.STATUS_ZOMBIE), FakeProcess(11, "running")
    control = PosixControl(killpg=eperm, members=lambda pid: [zombie, worker], zombie_eperm=True)  # type: ignore[list-item,return-value,arg-type]
    assert control.signal_group(10, int(signal.SIGTERM))
    assert worker.signals == [int(signal.SIGTERM)]
    linux = PosixControl(killpg=eperm, members=lambda pid: [worker])  # type: ignore[list-item,return-value,arg-type]
    assert not linux.signal_group(10, int(signal.SIGTERM))


def test_posix_group_gone() -> None:
    def gone(pid: int, sig: int) -> None:
        raise ProcessLookupError

    assert not PosixControl(killpg=gone).signal_group(10, int(signal.SIGTERM))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions")
def test_posix_for_real_signals_and_kills_the_whole_group() -> None:
    control = PosixControl()
    script = (
        "import subprocess, sys, time; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(c.pid, flush=True); time.sleep(60)"
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, **control.popen_kwargs()
    )
    try:
        assert leader.stdout is not None
        child = psutil.Process(int(leader.stdout.readline()))
        assert control.stop_signal("SIGINT") == int(signal.SIGINT)
        control.kill_group(leader.pid)
        assert leader.wait(timeout=10) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the grandchild outlived the group kill"
            time.sleep(0.02)
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait(timeout=5)
