"""Exercise harness.procs.control.WindowsControl for real, inside a Windows Python.

Run as `python.exe windows_control_check.py DIR` where DIR holds a copy of
control.py; prints one JSON line of findings.  Standard library only.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import time

sys.path.insert(0, sys.argv[1])
from control import WindowsControl

STILL_ACTIVE = 259
CHILD = r"""
import signal, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
def stop(signum, frame):
    grandchild.kill()
    sys.exit(3)
if sys.argv[1] == "polite":
    signal.signal(signal.SIGBREAK, stop)
print("ready", grandchild.pid, flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    code = ctypes.c_ulong()
    kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    kernel32.CloseHandle(handle)
    return code.value == STILL_ACTIVE


def start(control: WindowsControl, mode: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        text=True,
        **control.popen_kwargs(),
    )
    assert child.stdout is not None
    word, grandchild = child.stdout.readline().split()
    assert word == "ready"
    return child, int(grandchild)


def wait_gone(pids: list[int], timeout_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if not any(alive(pid) for pid in pids):
            return round(time.monotonic() - started, 2)
        time.sleep(0.05)
    return None


def main() -> None:
    control = WindowsControl()
    findings: dict[str, object] = {"flags": control.popen_kwargs()["creationflags"]}

    child, grandchild = start(control, "polite")
    started = [child.pid, grandchild]
    sent = control.signal_group(child.pid, control.stop_signal("SIGINT"))
    try:
        code = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = None
    findings["ctrl_break"] = {"sent": sent, "exit_code": code, "gone_s": wait_gone([grandchild], 5)}
    control.kill_group(child.pid)

    child, grandchild = start(control, "stubborn")
    started += [child.pid, grandchild]
    control.kill_group(child.pid)
    findings["taskkill_tree"] = {
        "gone_s": wait_gone([child.pid, grandchild], 5),
        "leader_alive": alive(child.pid),
        "grandchild_alive": alive(grandchild),
    }
    for pid in started:  # leave nothing behind, whatever the strategy managed
        if alive(pid):
            subprocess.run(["taskkill", "/PID", str(pid), "/F"], capture_output=True)
    print(json.dumps(findings), flush=True)


if __name__ == "__main__":
    main()
