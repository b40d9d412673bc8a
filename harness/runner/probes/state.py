"""Checks on the state the server leaves around it, not on what it answers.

* listening: does anything accept connections at a loopback address (e.g. a
  server that silently fell back to the default 127.0.0.1:8000)?
* paths: does a socket file exist while the server runs, or after it exited?
* imports: how often was the app module imported, and in which processes?  The
  reference apps append "pid ppid" to `$HARNESS_IMPORT_LOG` at import time.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.runner.endpoints import Address
from harness.runner.observation import Check
from harness.scenario.checks import ImportExpectation, ListeningExpectation, PathExpectation
from harness.scenario.placeholders import render

#: The environment variable the reference apps append their imports to.
IMPORT_LOG_ENV = "HARNESS_IMPORT_LOG"


def listening_check(expectation: ListeningExpectation) -> Check:
    accepting = Address(expectation.host, expectation.port).can_connect(timeout_s=0.5)
    address = f"{expectation.host}:{expectation.port}"
    ok = accepting == expectation.accepting
    detail = f"{address} {'accepts' if accepting else 'refuses'} connections"
    if not ok:
        detail += f" (wanted: {'accepting' if expectation.accepting else 'nothing there'})"
    return Check(expectation.id, ok, detail)


def in_use_before_start(expectation: ListeningExpectation) -> Check | None:
    """A failed check when a must-stay-free address is taken before the server starts:
    the cell cannot tell what the server did, so it must not pass."""
    if expectation.accepting or not Address(expectation.host, expectation.port).can_connect():
        return None
    address = f"{expectation.host}:{expectation.port}"
    return Check(
        expectation.id,
        False,
        f"{address} already accepted connections before the server started: "
        "another program holds it, so this cannot be checked",
    )


def _kind_of(path: Path) -> str | None:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file"


def path_check(expectation: PathExpectation, values: Mapping[str, str]) -> Check:
    path = Path(render(expectation.path, values))
    kind = _kind_of(path)
    exists = kind is not None and expectation.kind in ("any", kind)
    state = f"{kind} exists" if kind else "does not exist"
    moment = "while running" if expectation.when == "running" else "after exit"
    detail = f"{path.name} {state} ({moment})"
    ok = exists == expectation.exists
    if not ok:
        wanted = f"a {expectation.kind}" if expectation.kind != "any" else "it"
        detail += f"; wanted {wanted} {'to exist' if expectation.exists else 'gone'}"
    return Check(expectation.id, ok, detail)


@dataclass(frozen=True)
class ImportRecord:
    pid: int
    ppid: int


def read_import_log(path: Path) -> list[ImportRecord]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    records = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            records.append(ImportRecord(int(parts[0]), int(parts[1])))
    return records


def _count(expectation: ImportExpectation, records: Sequence[ImportRecord], parent: int) -> int:
    if expectation.process == "parent":
        return sum(record.pid == parent for record in records)
    if expectation.process == "others":
        return sum(record.pid != parent for record in records)
    return len(records)


def imports_satisfied(
    expectations: Sequence[ImportExpectation], records: Sequence[ImportRecord], parent: int
) -> bool:
    """Every minimum is reached (what a bounded wait waits for)."""
    return all(
        e.min_count is None or _count(e, records, parent) >= e.min_count for e in expectations
    )


def import_checks(
    expectations: Sequence[ImportExpectation], records: Sequence[ImportRecord], parent: int
) -> list[Check]:
    pids = sorted({record.pid for record in records})
    roles = ", ".join(f"{pid}{' (parent)' if pid == parent else ''}" for pid in pids) or "none"
    checks = []
    for expectation in expectations:
        count = _count(expectation, records, parent)
        problems = []
        if expectation.min_count is not None and count < expectation.min_count:
            problems.append(f"wanted at least {expectation.min_count}")
        if expectation.max_count is not None and count > expectation.max_count:
            problems.append(f"wanted at most {expectation.max_count}")
        where = {"parent": "in the parent", "others": "in other processes", "all": "in all"}
        detail = f"{count} import(s) {where[expectation.process]}; pids: {roles}"
        if problems:
            detail += "; " + ", ".join(problems)
        checks.append(Check(expectation.id, not problems, detail))
    return checks


def import_log_path(workdir: Path) -> Path:
    return workdir / "imports.log"
