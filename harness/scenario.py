"""Typed scenario values: what to start, what to expect, which failures are known.

These are plain frozen dataclasses so every later stage (planning, running,
classifying, reporting) can be tested with hand-built values.  Parsing and
validation of TOML lives in `scenario_loader`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from harness.platforms import family

#: Placeholders a scenario's command line may use.
COMMAND_PLACEHOLDERS: frozenset[str] = frozenset({"app", "app_dir", "host", "port", "python"})


@dataclass(frozen=True)
class Claim:
    """What upstream says about a bug's affected range (from a fix card or changelog)."""

    fixed_in: Version | None = None
    introduced_in: Version | None = None

    def covers(self, version: Version) -> bool:
        """True when the claim says `version` has the bug."""
        if self.introduced_in is not None and version < self.introduced_in:
            return False
        return not (self.fixed_in is not None and version >= self.fixed_in)

    def describe(self) -> str:
        parts = []
        if self.introduced_in is not None:
            parts.append(f"introduced in {self.introduced_in}")
        if self.fixed_in is not None:
            parts.append(f"fixed in {self.fixed_in}")
        return ", ".join(parts) if parts else "no upstream claim"


@dataclass(frozen=True)
class Signature:
    """A known failure: a regex over captured output, valid on some platforms."""

    id: str
    pattern: re.Pattern[str]
    platforms: frozenset[str]
    claim: Claim
    description: str = ""
    #: An intermittent failure: when it matches, the cell is retried (bounded).
    flaky: bool = False

    def applies_to(self, platform: str) -> bool:
        """True on its platforms, including targets emulating one (windows-wine: windows)."""
        return family(platform) in self.platforms


@dataclass(frozen=True)
class HttpProbe:
    """One HTTP request the harness sends once the server is ready, and its checks."""

    method: str = "GET"
    path: str = "/"
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = 200
    body: str | None = None
    body_contains: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class LogExpectation:
    """A check over the server's output, evaluated with a bounded wait."""

    pattern: re.Pattern[str]
    min_count: int | None = None
    max_count: int | None = None
    distinct_min: int | None = None
    description: str = ""

    def describe(self) -> str:
        if self.description:
            return self.description
        return f"log /{self.pattern.pattern}/"


@dataclass(frozen=True)
class ExitExpectation:
    """How the server must stop: signal sent, deadline and acceptable exit codes."""

    signal: str = "SIGINT"
    target: str = "group"
    within_s: float = 10.0
    codes: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Limits:
    """Every wait in a cell is bounded by one of these."""

    ready_s: float = 20.0
    probe_s: float = 5.0
    log_s: float = 10.0
    kill_grace_s: float = 3.0


@dataclass(frozen=True)
class ServerSpec:
    """How to start the server under test."""

    app: str
    app_dir: Path
    command: tuple[str, ...]
    ready_pattern: re.Pattern[str]
    host: str = "127.0.0.1"
    #: None: the harness picks a free port; 0: the server picks; N: this fixed port.
    port: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def fixed_port(self) -> int | None:
        return self.port if self.port else None


@dataclass(frozen=True)
class Upstream:
    issue: str | None = None
    fix: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """One reproducible situation, run against many versions and Pythons."""

    id: str
    title: str
    source: Path
    package: str
    server: ServerSpec
    platforms: frozenset[str]
    http: tuple[HttpProbe, ...]
    logs: tuple[LogExpectation, ...]
    exit: ExitExpectation
    limits: Limits
    signatures: tuple[Signature, ...]
    default_versions: tuple[str, ...]
    upstream: Upstream = field(default_factory=Upstream)
    description: str = ""
    extras: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()
    #: target platform -> why its results cannot speak for the real platform
    unfaithful: Mapping[str, str] = field(default_factory=dict)

    def applies_to(self, platform: str) -> bool:
        return family(platform) in self.platforms

    def unfaithful_reason(self, platform: str) -> str | None:
        """Why cells on `platform` cannot stand for the real thing (None: they can)."""
        return self.unfaithful.get(platform)

    def signature(self, signature_id: str) -> Signature | None:
        for signature in self.signatures:
            if signature.id == signature_id:
                return signature
        return None

    def max_duration_s(self) -> float:
        """An upper bound on one run of this scenario's server, from its limits.

        Start-up, every probe (each at most twice `probe_s`, see `harness.probes`),
        the log wait, the stop signal's deadline, the grace before SIGKILL, and a
        margin for the kills.
        """
        limits = self.limits
        return (
            limits.ready_s
            + len(self.http) * 2 * limits.probe_s
            + (limits.log_s if self.logs else 0.0)
            + self.exit.within_s
            + limits.kill_grace_s
            + 15.0
        )

    def claim_boundaries(self) -> tuple[Version, ...]:
        """Versions named by the claims: the releases worth always running."""
        versions: set[Version] = set()
        for signature in self.signatures:
            if signature.claim.fixed_in is not None:
                versions.add(signature.claim.fixed_in)
            if signature.claim.introduced_in is not None:
                versions.add(signature.claim.introduced_in)
        return tuple(sorted(versions))
