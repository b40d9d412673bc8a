"""Known failures (signatures), where they can occur, and upstream's claim about them.

A signature is evidence that one known bug reproduced: a regex over the
server's output, checks that failed (with their detail, or because their wait
ran out, or after taking long), checks that passed, and the server's exit
status (a code, or the signal that killed it), in any combination.  A claim
lists the ranges of releases upstream says have the bug: one range for most
bugs, several when a fix was reverted or the bug came back later.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness import patterns
from harness.platforms import family

#: Signal names a signature may name in `exit_signal` (POSIX; numbers come from
#: the host at match time, so a name unknown on this host never matches).
SIGNAL_NAMES: frozenset[str] = frozenset(
    {"SIGABRT", "SIGBUS", "SIGFPE", "SIGHUP", "SIGILL", "SIGINT", "SIGKILL", "SIGPIPE",
     "SIGQUIT", "SIGSEGV", "SIGTERM", "SIGUSR1", "SIGUSR2"}
)  # fmt: skip


@dataclass(frozen=True)
class ClaimRange:
    """One range of releases with the bug: from `introduced_in` (None: from the
    start of history) up to, not including, `fixed_in` (None: not fixed yet)."""

    introduced_in: Version | None = None
    fixed_in: Version | None = None

    def covers(self, version: Version) -> bool:
        if self.introduced_in is not None and version < self.introduced_in:
            return False
        return not (self.fixed_in is not None and version >= self.fixed_in)

    def describe(self, again: bool = False) -> str:
        parts = []
        if self.introduced_in is not None:
            parts.append(f"introduced{' again' if again else ''} in {self.introduced_in}")
        if self.fixed_in is not None:
            parts.append(f"fixed in {self.fixed_in}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Claim:
    """What upstream says about a bug's affected releases.

    The first range is `introduced_in`/`fixed_in`; `later` holds the ranges
    after it, oldest first, when the bug came back (a revert, a refactor).
    """

    fixed_in: Version | None = None
    introduced_in: Version | None = None
    later: tuple[ClaimRange, ...] = ()

    @property
    def ranges(self) -> tuple[ClaimRange, ...]:
        """Every claimed bad range, oldest first."""
        return (ClaimRange(self.introduced_in, self.fixed_in), *self.later)

    @property
    def empty(self) -> bool:
        """Upstream says nothing about where the bug starts or stops."""
        return not self.edges()

    def edges(self) -> tuple[Version, ...]:
        """Every version the claim names, in order."""
        found = [v for r in self.ranges for v in (r.introduced_in, r.fixed_in) if v is not None]
        return tuple(found)

    def covers(self, version: Version) -> bool:
        """True when the claim says `version` has the bug."""
        return any(claim_range.covers(version) for claim_range in self.ranges)

    def describe(self) -> str:
        parts = [r.describe(again=index > 0) for index, r in enumerate(self.ranges)]
        text = "; ".join(part for part in parts if part)
        return text or "no upstream claim"


@dataclass(frozen=True)
class CellContext:
    """Where a cell ran, as far as a signature's applicability is concerned."""

    platform: str
    python: Version | None = None
    axes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckEvidence:
    """One check as a signature sees it."""

    ok: bool
    detail: str = ""
    timed_out: bool = False
    elapsed_s: float | None = None


@dataclass(frozen=True)
class CellEvidence:
    """What a signature is matched against: the output, the checks, the exit."""

    output: str = ""
    checks: Mapping[str, CheckEvidence] = field(default_factory=dict)
    exit_code: int | None = None

    @classmethod
    def of(
        cls, output: str, failed: tuple[str, ...] = (), passed: tuple[str, ...] = ()
    ) -> CellEvidence:
        """Evidence from names only (failed and passed checks, no details)."""
        checks = {name: CheckEvidence(False) for name in failed}
        checks.update({name: CheckEvidence(True) for name in passed})
        return cls(output, checks)


def _failed(evidence: CellEvidence, name: str) -> CheckEvidence | None:
    check = evidence.checks.get(name)
    return check if check is not None and not check.ok else None


@dataclass(frozen=True)
class Signature:
    """A known failure: what shows it, where it can occur, and upstream's claim."""

    id: str
    pattern: re.Pattern[str] | None
    platforms: frozenset[str]
    claim: Claim
    description: str = ""
    #: Names (ids) of checks that must all have failed for the signature to match.
    checks: tuple[str, ...] = ()
    #: Names of checks that must all have passed: what shows the server otherwise
    #: worked (so a release that cannot run the app at all is not this bug).
    passed_checks: tuple[str, ...] = ()
    #: The Pythons it can occur on (None: all).
    python: SpecifierSet | None = None
    #: Axis -> the values it can occur with (e.g. {"resolution": {"latest"}}).
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: An intermittent failure: when it matches, the cell is retried (bounded).
    flaky: bool = False
    #: The server's exit code must be one of these (empty: any).
    exit_codes: tuple[int, ...] = ()
    #: The server must have been killed by this signal (e.g. "SIGSEGV").
    exit_signal: str | None = None
    #: Check name -> a regex its (failed) check's detail must match.
    check_detail: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    #: Checks whose bounded wait ran out (no response, no exit within the limit).
    timed_out: tuple[str, ...] = ()
    #: Check name -> the seconds it must have taken at least.
    min_elapsed_s: Mapping[str, float] = field(default_factory=dict)

    def applies_to(self, platform: str) -> bool:
        """True on its platforms, including targets emulating one (windows-wine: windows)."""
        return family(platform) in self.platforms

    def applies_in(self, context: CellContext) -> bool:
        """Can this failure occur in a cell run there (platform, Python, axes)?"""
        if not self.applies_to(context.platform):
            return False
        if (
            self.python is not None
            and context.python is not None
            and not self.python.contains(context.python, prereleases=True)
        ):
            return False
        return all(context.axes.get(axis) in values for axis, values in self.when.items())

    def matches(self, evidence: CellEvidence) -> bool:
        """Every condition the signature names holds in the evidence."""
        if self.pattern is not None and not patterns.search(
            self.pattern, evidence.output, f"the output (signature {self.id})"
        ):
            return False
        if self.exit_codes and evidence.exit_code not in self.exit_codes:
            return False
        if self.exit_signal is not None and not _killed_by(evidence.exit_code, self.exit_signal):
            return False
        if not all(_failed(evidence, name) for name in self.checks):
            return False
        if not all((c := evidence.checks.get(n)) and c.ok for n in self.passed_checks):
            return False
        for name, detail in self.check_detail.items():
            failed = _failed(evidence, name)
            if failed is None or not patterns.search(
                detail, failed.detail, f"check {name}'s detail (signature {self.id})"
            ):
                return False
        if not all((c := _failed(evidence, n)) and c.timed_out for n in self.timed_out):
            return False
        for name, seconds in self.min_elapsed_s.items():
            check = evidence.checks.get(name)
            if check is None or check.elapsed_s is None or check.elapsed_s < seconds:
                return False
        return True

    def conditions(self) -> list[str]:
        """What the signature matches on, in words (for reports)."""
        parts = [f"/{self.pattern.pattern}/"] if self.pattern is not None else []
        if self.exit_codes:
            parts.append(f"exit code {' or '.join(map(str, self.exit_codes))}")
        if self.exit_signal:
            parts.append(f"killed by {self.exit_signal}")
        parts += [f"{name} failed" for name in self.checks if name not in self.check_detail]
        parts += [f"{name} failed with /{p.pattern}/" for name, p in self.check_detail.items()]
        parts += [f"{name} timed out" for name in self.timed_out]
        parts += [f"{name} took >= {s:g}s" for name, s in self.min_elapsed_s.items()]
        return parts

    def scope(self) -> str:
        """Where it applies, beyond platforms: `python<3.11, resolution=latest`."""
        parts = [f"python{self.python}"] if self.python is not None else []
        parts += [f"{axis}={'|'.join(sorted(values))}" for axis, values in self.when.items()]
        return ", ".join(parts)


def _killed_by(exit_code: int | None, name: str) -> bool:
    """A negative return code is the signal that ended the process (POSIX)."""
    number = getattr(signal, name, None)
    return exit_code is not None and number is not None and exit_code == -int(number)
