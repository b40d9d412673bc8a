"""`python -m harness.procs.watchdog RECORD`: kill a run's processes if the harness dies.

Started by `RunGuard` in its own session with a pipe on stdin.  The harness
writes "done" before it exits normally; if the pipe closes without it (the
harness was killed, even with SIGKILL), the watchdog kills every process of
the run and marks the run record, so the next run can say what happened.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the harness's business
    if len(argv) != 1:
        print("usage: python -m harness.procs.watchdog RUN_RECORD", file=sys.stderr)
        return 2
    path = Path(argv[0])
    said = b""
    with contextlib.suppress(OSError):
        said = sys.stdin.buffer.read()  # returns at EOF: the harness exited or closed it
    if b"done" in said:
        return 0
    # Imported only now: a watchdog starts with every run, and most runs end well,
    # so its start-up stays a bare interpreter's (no psutil, no harness modules).
    from harness.atomic import write_text_atomic
    from harness.clock import utc_now
    from harness.procs.run_records import REAPED, RunRecord, reap_run, remove_scratch

    record = RunRecord.load(path)
    if record is None:
        return 0  # the harness finished its clean-up before it died
    record.reaped = reap_run(record)
    record.state = REAPED
    record.reaped_at = utc_now()
    remove_scratch(record)
    with contextlib.suppress(OSError):
        write_text_atomic(path, record.to_json(), durable=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
