"""What the runner saw in one cell, before any judgement is made."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """One expectation and whether it held, with what was actually seen."""

    name: str
    ok: bool
    detail: str = ""
    #: The check failed because a bounded wait ran out (e.g. a probe's response).
    timed_out: bool = False
    #: Seconds the check took (probes, readiness, the stop), when measured.
    elapsed_s: float | None = None
    #: Not run: it does not apply here (`detail` says why); neither passed nor failed.
    skipped: bool = False

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "ok": self.ok, "detail": self.detail}
        if self.timed_out:
            data["timed_out"] = True
        if self.elapsed_s is not None:
            data["elapsed_s"] = round(self.elapsed_s, 3)
        if self.skipped:
            data["skipped"] = True
        return data


@dataclass(frozen=True)
class Observation:
    """Raw facts of one server run: checks, timings, exit and output."""

    checks: tuple[Check, ...]
    ready: bool
    ready_timed_out: bool
    stop_timed_out: bool
    exit_code: int | None
    duration_s: float
    output: str
    address: str | None = None
    stop: str = ""
    leftover_processes: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Set when the cell could not run because its port was taken by someone else.
    port_conflict: str | None = None
    #: Set when the harness stopped the cell itself: the server listened beyond
    #: loopback, or a scenario's pattern ran out of time.  The cell is an `error`.
    aborted: str | None = None
    #: Set when the cell does not apply here (an option missing from `--help`,
    #: the app reporting no such capability): the reason, starting "not applicable: ".
    not_applicable: str | None = None

    @property
    def probe_timed_out(self) -> bool:
        return any(check.timed_out for check in self.checks)

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)

    @property
    def all_ok(self) -> bool:
        return not self.failed_checks


@dataclass
class Findings:
    """What the stages of one server run have recorded so far; the cell turns it
    into an `Observation` once the server is reaped."""

    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ready: bool = False
    ready_timed_out: bool = False
    stop_timed_out: bool = False
    #: Where the server was reached (or expected), for the report.
    address: str | None = None
    exit_code: int | None = None
    #: How the server ended, e.g. "SIGINT (0.12s)", for `Observation.stop`.
    stop_how: str = ""
    port_conflict: str | None = None
    aborted: str | None = None
    not_applicable: str | None = None
