"""Linux's process table read straight from /proc, for the scans done per cell.

Every cell asks a few times "which processes belong to this server's session,
or carry its spawn marker?".  psutil answers by building an object per process
on the machine and decoding each environment into a dictionary: several
milliseconds per question on a busy machine, tens per cell.  Here session
membership is one `getsid` call per process, descendants come from each
process's `stat` line, and markers are searched for as bytes in the raw
environment.  Processes we may
not read (another user's) are skipped, as psutil skips them.  Off Linux,
`read()` returns None and callers use psutil.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcEntry:
    pid: int
    ppid: int
    session: int
    state: str  # "Z": a zombie


def _stat(pid: str) -> ProcEntry | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            line = handle.read()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp session ...": comm may contain spaces and parentheses.
    fields = line[line.rfind(b")") + 2 :].split()
    try:
        return ProcEntry(int(pid), int(fields[1]), int(fields[3]), fields[0].decode())
    except (IndexError, ValueError):
        return None


def pids() -> list[int] | None:
    """Every process id in /proc; None when /proc cannot tell (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return [int(name) for name in os.listdir(_PROC) if name.isdigit()]
    except OSError:
        return None


def read(listed: Iterable[int]) -> dict[int, ProcEntry]:
    """pid -> entry for each of `listed` that still exists."""
    table: dict[int, ProcEntry] = {}
    for pid in listed:
        entry = _stat(str(pid))
        if entry is not None:
            table[pid] = entry
    return table


def in_session(pids: Iterable[int], leader: int) -> set[int]:
    """Those of `pids` in the session `leader` leads (one system call each)."""
    found = set()
    for pid in pids:
        try:
            if os.getsid(pid) == leader:
                found.add(pid)
        except OSError:
            continue  # exited meanwhile
    return found


def descendants(table: dict[int, ProcEntry], ancestor: int) -> set[int]:
    """Every process below `ancestor`, even those that started a session of their own."""
    children: dict[int, list[int]] = {}
    for entry in table.values():
        children.setdefault(entry.ppid, []).append(entry.pid)
    found: set[int] = set()
    stack = [ancestor]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def marked_pids(pids: Iterable[int], markers: Iterable[tuple[str, str]]) -> set[int]:
    """Those of `pids` whose environment holds one of the NAME=VALUE `markers`."""
    needles = [b"\0" + f"{name}={value}".encode() + b"\0" for name, value in markers]
    me = os.getpid()
    found: set[int] = set()
    for pid in pids:
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                block = b"\0" + handle.read()
        except OSError:
            continue
        if not block.endswith(b"\0"):
            block += b"\0"
        if any(needle in block for needle in needles):
            found.add(pid)
    return found
