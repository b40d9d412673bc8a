"""Verify a card's scenario: run it around the claimed fix, bisect both edges, judge.

Per target platform (the host, and `windows-wine` when a signature is
Windows'): pick the card's Python there, or the nearest one the releases
support (and say so); start from the last release before the claimed fix;
search the edges with the harness's bisect (`harness.analyses.bisect`) over
cells answered by `CellSource` (the cell cache first); and judge every claim
with `judge_signature` over everything observed.  A platform where the card's
signature cannot occur still runs the two releases around the fix, as a
control; a platform the scenario declares unfaithful runs them too, and its
cells count for nothing, so such a claim stays "unverifiable here".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.version import Version

from harness.analyses.bisect import Edge, Mark, bisect, mark_of
from harness.engine.cellsource import CellSource
from harness.engine.executor import cell_context
from harness.engine.pipeline import Harness, Notify
from harness.engine.progress import SilentProgress
from harness.envs.index import Release
from harness.envs.interpreters import PythonRequest
from harness.errors import UsageError
from harness.judge.claims import (
    CONFIRMED,
    CONTRADICTED,
    REFINED,
    UNVERIFIABLE,
    ClaimVerdict,
    judge_signature,
)
from harness.judge.exit_codes import decide, network_failures
from harness.outcomes import Outcome
from harness.plan.cells import Cell, cells_of, plan_cell
from harness.plan.versions import resolve_selector
from harness.platforms import WINDOWS, WINDOWS_WINE, current_platform, family
from harness.results import CellResult
from harness.scenario.model import Scenario, Signature

YES, NO = "Yes", "No"


@dataclass
class PlatformRun:
    """What one target platform showed."""

    platform: str
    role: str  # "search", "control", "unfaithful" or "unavailable"
    python_wanted: str | None = None
    python: str | None = None
    python_full: str | None = None
    python_note: str = ""
    signatures: list[str] = field(default_factory=list)
    note: str = ""
    start: str | None = None
    start_mark: str | None = None
    edges: dict[str, str | None] = field(default_factory=dict)
    untestable: list[str] = field(default_factory=list)
    not_monotone: list[str] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)

    @property
    def matched(self) -> list[CellResult]:
        return [
            c
            for c in self.cells
            if c.outcome == Outcome.KNOWN_FAILURE and c.signature in self.signatures
        ]

    @property
    def reproduced(self) -> bool:
        return bool(self.matched)


@dataclass
class Verification:
    scenario: Scenario
    runs: list[PlatformRun]
    claims: list[ClaimVerdict]
    cost: str = ""

    @property
    def cells(self) -> list[CellResult]:
        return [cell for run in self.runs for cell in run.cells]

    @property
    def reproduced(self) -> str:
        if any(run.reproduced for run in self.runs):
            return YES
        searched = [
            r
            for r in self.runs
            if r.role == "search"
            and any(c.outcome not in (Outcome.SKIP, Outcome.INSTALL_ERROR) for c in r.cells)
        ]
        return NO if searched else UNVERIFIABLE.capitalize()

    @property
    def searched_claims(self) -> list[ClaimVerdict]:
        wanted = {s for run in self.runs for s in run.signatures}
        return [claim for claim in self.claims if claim.signature in wanted]

    @property
    def verdict(self) -> str:
        verdicts = {claim.verdict for claim in self.searched_claims}
        for verdict in (CONTRADICTED, REFINED, CONFIRMED):
            if verdict in verdicts:
                return verdict
        return UNVERIFIABLE

    def exit_code(self) -> int:
        return decide(
            infrastructure=bool(network_failures(self.cells)),
            regression=self.verdict == CONTRADICTED
            or self.reproduced == NO
            or any(run.not_monotone for run in self.runs),
        )


def default_platforms(scenario: Scenario) -> list[str]:
    """The host, plus windows-wine when a signature is Windows' (and the host is not)."""
    host = current_platform()
    platforms = [host]
    windows = any(WINDOWS in s.platforms for s in scenario.signatures)
    if windows and host != WINDOWS:
        platforms.append(WINDOWS_WINE)
    return platforms


def anchor(scenario: Scenario, releases: Sequence[Release], bad: Version | None) -> Release:
    """The release to start from: --bad, else the last before the claimed fix, else the
    claimed introduction, else the newest."""
    by_version = {r.version: r for r in releases}
    if bad is not None:
        if bad not in by_version:
            raise UsageError(f"--bad {bad}: not a release of {scenario.package}")
        return by_version[bad]
    for signature in scenario.signatures:
        fixed, introduced = signature.claim.fixed_in, signature.claim.introduced_in
        if fixed is not None:
            before = [r for r in releases if r.version < fixed]
            if before:
                return before[-1]
        if introduced is not None and introduced in by_version:
            return by_version[introduced]
    if not releases:
        raise UsageError(f"no installable release of {scenario.package}")
    return releases[-1]


def choose_python(
    harness: Harness, platform: str, wanted: str | None, release: Release
) -> tuple[PythonRequest | None, str]:
    """The card's Python on this platform, else the nearest one `release` supports."""
    target = next(t for t in harness.targets if t.platform == platform)
    if wanted is not None:
        request = target.pythons.resolve_all([wanted])[0]
        found = request.interpreter
        if found is not None and release.supports_python(found.version):
            return request, f"Python {wanted}, as the card says"
    candidates = [i for i in target.pythons.discovered() if release.supports_python(i.version)]
    if not candidates:
        return None, f"no Python on {platform} that {release.version} supports"
    if wanted is None:
        chosen = candidates[0]
        return PythonRequest(chosen.minor, chosen), (
            f"Python {chosen.minor}: the card names none; the oldest here that "
            f"{release.version} supports"
        )
    major, minor = (int(part) for part in wanted.split(".")[:2])
    chosen = min(
        candidates,
        key=lambda i: (
            abs(i.version.minor - minor) + 100 * abs(i.version.major - major),
            i.version,
        ),
    )
    return PythonRequest(chosen.minor, chosen), (
        f"Python {wanted} is not available on {platform}; used {chosen.minor}, the nearest "
        f"that {release.version} supports"
    )


class _Oracle:
    """Bisect's evaluate callback: a release is bad when a cell shows the signature."""

    def __init__(
        self,
        source: CellSource,
        scenario: Scenario,
        releases: list[Release],
        request: PythonRequest,
        platform: str,
        ids: set[str],
        notify: Notify,
    ) -> None:
        self.source, self.scenario, self.releases = source, scenario, releases
        self.request, self.platform, self.ids, self.notify = request, platform, ids, notify
        self.results: dict[int, list[CellResult]] = {}
        #: The newest release found without a wheel for a wheel-only target (Wine);
        #: the bisect crosses such install-failure bands by galloping.
        self.no_wheels: int | None = None

    def cells(self, index: int) -> list[Cell]:
        release = self.releases[index]
        base = plan_cell(self.scenario, release.version, release, self.request, self.platform)
        signatures = [s for s in self.scenario.signatures if s.id in self.ids]
        variants = [
            c for c in cells_of(base) if any(s.applies_in(cell_context(c)) for s in signatures)
        ]
        return variants or [base]

    def combine(self, results: Sequence[CellResult]) -> Mark:
        marks = [mark_of(result, self.ids) for result in results]
        for wanted in (Mark.BAD, Mark.GOOD):
            if wanted in marks:
                return wanted
        return Mark.SKIP

    def __call__(self, batch: Sequence[int]) -> Mapping[int, Mark]:
        marks: dict[int, Mark] = {}
        names = ", ".join(str(self.releases[i].version) for i in batch)
        self.notify(f"{self.platform}: probing {names}")
        groups = {index: self.cells(index) for index in batch}
        answers = iter(self.source.observe([c for i in batch for c in groups[i]], "bisect"))
        for index in batch:
            self.results[index] = [next(answers) for _ in groups[index]]
            marks[index] = self.combine(self.results[index])
            shown = self.results[index][0]
            if "Wheels are required" in shown.reason and shown.outcome == Outcome.INSTALL_ERROR:
                self.no_wheels = max(index, self.no_wheels or 0)
            detail = shown.signature or shown.fingerprint or shown.reason
            self.notify(
                f"  {shown.version:<10} {marks[index].value:<4} {shown.outcome} ({detail[:80]})"
            )
        return marks


def _edge(run: PlatformRun, edge: Edge | None, releases: list[Release], old: str, new: str) -> None:
    if edge is None:
        return
    run.edges[old] = None if edge.before is None else str(releases[edge.before].version)
    run.edges[new] = None if edge.after is None else str(releases[edge.after].version)
    run.untestable += [str(releases[i].version) for i in edge.skipped]


def _around_fix(scenario: Scenario, releases: list[Release], start: Release) -> list[Release]:
    """The release before each claimed edge and the edge itself, when installable."""
    wanted = {start.version}
    for signature in scenario.signatures:
        for edge in (signature.claim.fixed_in, signature.claim.introduced_in):
            if edge is None:
                continue
            before = [r for r in releases if r.version < edge]
            if before:
                wanted.add(before[-1].version)
            wanted.update(r.version for r in releases if r.version == edge)
    return [r for r in releases if r.version in wanted]


def verify_platform(
    harness: Harness,
    source: CellSource,
    scenario: Scenario,
    platform: str,
    wanted: str | None,
    selector: str | None,
    bad: Version | None,
    notify: Notify,
) -> PlatformRun:
    """Run the scenario on one target platform (see the module's docstring)."""
    target = next(t for t in harness.targets if t.platform == platform)
    signatures: list[Signature] = [s for s in scenario.signatures if s.applies_to(platform)][:1]
    run = PlatformRun(
        platform, "search", python_wanted=wanted, signatures=[s.id for s in signatures]
    )
    unavailable = target.unavailable_reason()
    if unavailable is not None:
        run.role, run.note = "unavailable", unavailable
        return run
    releases = harness.installable_releases(scenario.package)
    if selector:
        chosen = set(
            resolve_selector(
                selector, releases, scenario.package, scenario.claim_boundaries(), False
            )
        )
        releases = [r for r in releases if r.version in chosen]
    start = anchor(scenario, releases, bad)
    request, run.python_note = choose_python(harness, platform, wanted, start)
    if request is None or request.interpreter is None:
        run.role, run.note = "unavailable", run.python_note
        return run
    run.python, run.python_full = request.label, str(request.interpreter.version)
    usable = [r for r in releases if r.supports_python(request.interpreter.version)]
    run.start = str(start.version)
    why = scenario.unfaithful_reason(platform)
    if why is not None or not signatures:
        run.role = "unfaithful" if why is not None else "control"
        run.note = why or (
            f"no signature of the card can occur on {family(platform)}: a control run, "
            "the server should work here"
        )
        cells = [
            plan_cell(scenario, r.version, r, request, platform)
            for r in _around_fix(scenario, usable, start)
        ]
        run.cells = source.observe(cells, "selected")
        return run
    ids = {s.id for s in signatures}
    oracle = _Oracle(source, scenario, usable, request, platform, ids, notify)
    free: set[int] = set()
    known: dict[int, Mark] = {}
    for index in range(len(usable)):
        hits = [source.cached(cell) for cell in oracle.cells(index)]
        if hits and all(hit is not None for hit in hits):
            free.add(index)
            known[index] = oracle.combine([hit for hit in hits if hit is not None])
    found = bisect(len(usable), usable.index(start), oracle, free, known)
    run.start_mark = found.start_mark.value if found.start_mark else None
    around = found.around_start()
    if around is not None:
        _edge(run, around.introduced, usable, "last_good", "first_bad")
        _edge(run, around.fixed, usable, "last_bad", "first_good")
    # Any other bad range means the history is not one range around the claim.
    run.not_monotone = [
        str(usable[r.introduced.after].version)
        for r in found.ranges
        if r is not around and r.introduced.after is not None
    ]
    if oracle.no_wheels is not None:
        run.note = (
            f"{usable[oracle.no_wheels].version} and older releases have no wheel for "
            f"{platform}: untestable here"
        )
    observed = [cell for index in sorted(oracle.results) for cell in oracle.results[index]]
    seen = {cell.version for cell in observed}
    extra = [r for r in _around_fix(scenario, usable, start) if str(r.version) not in seen]
    if extra:
        cells = [plan_cell(scenario, r.version, r, request, platform) for r in extra]
        observed += source.observe(cells, "selected")
    run.cells = sorted(observed, key=lambda c: c.parsed_version)
    return run


def verify(
    harness: Harness,
    scenario: Scenario,
    wanted: str | None,
    notify: Notify,
    selector: str | None = None,
    bad: Version | None = None,
    reuse: bool = True,
) -> Verification:
    """Verify on every target platform of `harness`, then judge every claim."""
    source = CellSource(harness, SilentProgress(), reuse=reuse)
    runs = [
        verify_platform(harness, source, scenario, target.platform, wanted, selector, bad, notify)
        for target in harness.targets
    ]
    cells = [cell for run in runs for cell in run.cells]
    releases = [r.version for r in harness.installable_releases(scenario.package)]
    claims = [
        judge_signature(scenario, signature, cells, releases)
        for signature in scenario.signatures
        if signature.claim.fixed_in is not None or signature.claim.introduced_in is not None
    ]
    return Verification(scenario, runs, claims, source.cost.describe())
