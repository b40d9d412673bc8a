"""Typed scenario values: what to start, what to expect, which failures are known.

These are plain frozen dataclasses so every later stage (planning, running,
classifying, reporting) can be tested with hand-built values.  Parsing and
validation of TOML lives in `harness.scenario.loader`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from harness.platforms import family
from harness.scenario.applicability import ScenarioApplicability
from harness.scenario.checks import (
    CompareExpectation,
    ExitExpectation,
    HttpProbe,
    ImportExpectation,
    ListeningExpectation,
    LogExpectation,
    PathExpectation,
    RawExchange,
    WebSocketProbe,
)
from harness.scenario.signatures import CellContext, Claim, ClaimRange, Signature

#: Re-exported: the signature types live in `harness.scenario.signatures`.
__all__ = [
    "COMMON_PLACEHOLDERS",
    "LISTEN_PLACEHOLDERS",
    "RESERVED_AXES",
    "RESOLUTIONS",
    "CellContext",
    "Claim",
    "ClaimRange",
    "Limits",
    "Listen",
    "Matrix",
    "Scenario",
    "ServerSpec",
    "Signature",
    "Upstream",
]

#: Placeholders that exist only with one way of listening (see `Listen`).
LISTEN_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "tcp": frozenset({"port"}),
    "uds": frozenset({"uds"}),
    "fd": frozenset({"fd", "port"}),
}
#: Placeholders available everywhere a scenario names a path or a value.
#: `{launcher}` is the harness's own `launch.py` (programmatic starts from any app folder).
COMMON_PLACEHOLDERS: frozenset[str] = frozenset(
    {"app", "app_dir", "host", "launcher", "python", "workdir"}
)
#: How the environment is resolved: today's newest dependencies, or as of the
#: server release's upload date (what its users got then).
RESOLUTIONS: tuple[str, ...] = ("latest", "release-date")
#: Axis names with a meaning of their own (not free-form command placeholders).
RESERVED_AXES: frozenset[str] = frozenset({"extras", "python", "resolution"})


@dataclass(frozen=True)
class Limits:
    """Every wait in a cell is bounded by one of these."""

    ready_s: float = 20.0
    probe_s: float = 5.0
    log_s: float = 10.0
    kill_grace_s: float = 3.0
    #: After the `ready` line, how long the listen address may refuse
    #: connections (None: whatever is left of `ready_s`).
    connect_s: float | None = None


@dataclass(frozen=True)
class Listen:
    """Where the server listens, set up by the harness before it starts.

    * `tcp`: loopback `{host}:{port}` (a free port the harness picks, or 0);
    * `uds`: a Unix socket path `{uds}` in the cell's scratch folder;
    * `fd`: a listening loopback socket the harness opens and passes, as the
      server's standard input (`fd_as = "stdin"`, `{fd}` is 0) or as an
      inherited descriptor (`{fd}` is its number).
    """

    kind: str = "tcp"
    fd_as: str = "inherited"


@dataclass(frozen=True)
class ServerSpec:
    """How to start the server under test."""

    app: str
    app_dir: Path
    command: tuple[str, ...]
    ready_pattern: re.Pattern[str] | None
    host: str = "127.0.0.1"
    #: None: the harness picks a free port; 0: the server picks; N: this fixed port.
    port: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    listen: Listen = field(default_factory=Listen)

    @property
    def fixed_port(self) -> int | None:
        return self.port if self.port and self.listen.kind == "tcp" else None


@dataclass(frozen=True)
class Matrix:
    """The scenario's own matrix axes, beyond server version and platform.

    `axes` are free-form (e.g. `http = ["h11", "httptools"]`) and usable as
    `{http}` in the command; `extras` are alternative package extras;
    `pythons` the candidate interpreters for default runs; `resolutions`
    how environments are resolved.  Every combination is one cell.
    """

    axes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extras: tuple[tuple[str, ...], ...] = ()
    pythons: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()

    def combinations(self) -> list[tuple[tuple[str, str], ...]]:
        """Every assignment of one value per free-form axis, in declared order."""
        combos: list[tuple[tuple[str, str], ...]] = [()]
        for name, values in self.axes:
            combos = [(*combo, (name, value)) for combo in combos for value in values]
        return combos


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
    raw: tuple[RawExchange, ...] = ()
    websocket: tuple[WebSocketProbe, ...] = ()
    listening: tuple[ListeningExpectation, ...] = ()
    paths: tuple[PathExpectation, ...] = ()
    imports: tuple[ImportExpectation, ...] = ()
    matrix: Matrix = field(default_factory=Matrix)
    #: Named resources no two cells may use at once (e.g. "tcp:127.0.0.1:8000").
    exclusive: tuple[str, ...] = ()
    compare: tuple[CompareExpectation, ...] = ()
    #: Where the scenario, its variants and its checks apply.
    applicability: ScenarioApplicability = field(default_factory=ScenarioApplicability)

    def applies_to(self, platform: str) -> bool:
        return family(platform) in self.platforms

    def unfaithful_reason(self, platform: str) -> str | None:
        """Why cells on `platform` cannot stand for the real thing (None: they can)."""
        return self.unfaithful.get(platform)

    def exclusive_resources(self) -> tuple[str, ...]:
        """Declared resources plus every fixed address a listening check watches."""
        names = dict.fromkeys(self.exclusive)
        names.update(dict.fromkeys(check.resource for check in self.listening))
        return tuple(sorted(names))

    def needs_running_server(self) -> bool:
        """Whether anything must be done while the server runs (so readiness is awaited)."""
        return bool(
            self.exit.signal != "none"
            or self.http
            or self.raw
            or self.websocket
            or self.listening
            or self.imports
            or any(path.when == "running" for path in self.paths)
        )

    def signature(self, signature_id: str) -> Signature | None:
        for signature in self.signatures:
            if signature.id == signature_id:
                return signature
        return None

    def max_duration_s(self) -> float:
        """An upper bound on one run of this scenario's server, from its limits.

        Start-up, every probe (each at most twice `probe_s`, see `harness.runner.probes.http`),
        the log wait, the stop signal's deadline, the grace before SIGKILL, and a
        margin for the kills.
        """
        limits = self.limits
        raw = sum(
            min(5.0, r.read_s) + r.read_s + r.gap_s * max(0, len(r.send) - 1) for r in self.raw
        )
        return (
            limits.ready_s
            + sum(2 * limits.probe_s + probe.wait_s for probe in self.http)
            + raw
            + len(self.websocket) * 2 * limits.probe_s
            + (limits.log_s if self.logs or self.imports else 0.0)
            + self.exit.within_s
            + limits.kill_grace_s
            + 15.0
        )

    def claim_boundaries(self) -> tuple[Version, ...]:
        """Versions named by the claims: the releases worth always running."""
        versions = {v for signature in self.signatures for v in signature.claim.edges()}
        return tuple(sorted(versions))
