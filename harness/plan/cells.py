"""Plan a run: scenario x version x Python (x platform) cells, skips decided up front.

Cells that cannot run here (platform, missing interpreter, `requires-python`)
are planned as skips with a reason, so the matrix shows them instead of
silently dropping them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from packaging.version import Version

from harness.envs.index import Release, ReleaseIndex
from harness.envs.interpreters import Interpreter, PythonRequest, PythonSource
from harness.errors import EmptySelectionError
from harness.plan.versions import claim_edges, resolve_selector
from harness.scenario.applicability import CellSite
from harness.scenario.model import Scenario

#: First final release of each CPython minor: a server release older than a
#: Python cannot have been tested on it, so default sets do not pair them.
PYTHON_RELEASE_DATES: dict[str, datetime] = {
    minor: datetime(*date, tzinfo=timezone.utc)
    for minor, date in {
        "3.6": (2016, 12, 23), "3.7": (2018, 6, 27), "3.8": (2019, 10, 14),
        "3.9": (2020, 10, 5), "3.10": (2021, 10, 4), "3.11": (2022, 10, 24),
        "3.12": (2023, 10, 2), "3.13": (2024, 10, 7), "3.14": (2025, 10, 7),
        "3.15": (2026, 10, 1),
    }.items()
}  # fmt: skip
#: The oldest Python the default interpreter set uses.
DEFAULT_PYTHON_FLOOR = Version("3.8")


#: A cell's identity, the same for the planned cell and its result:
#: (scenario, package, version, python, platform, extras, axes, resolution).
CellKey = tuple[str, str, str, str, str, tuple[str, ...], tuple[tuple[str, str], ...], str]


def cell_key(
    scenario: str,
    package: str,
    version: str,
    python: str,
    platform: str,
    extras: tuple[str, ...],
    axes: Iterable[tuple[str, str]],
    resolution: str,
) -> CellKey:
    """The one way a cell is identified (results merge, caches and reports use it)."""
    return (scenario, package, version, python, platform, extras, tuple(sorted(axes)), resolution)


@dataclass(frozen=True)
class Cell:
    scenario: Scenario
    version: Version
    python: PythonRequest
    platform: str
    release: Release | None = None
    skip_reason: str | None = None
    #: The scenario's free-form matrix values for this cell, e.g. (("http", "h11"),).
    axes: tuple[tuple[str, str], ...] = ()
    #: Package extras for this cell (None: the scenario's `extras`).
    extras: tuple[str, ...] | None = None
    #: "latest" or "release-date" (see `harness.scenario.model.RESOLUTIONS`).
    resolution: str = "latest"
    #: The user's other pins, installed as constraints (a gate tests their real set).
    constraints: tuple[str, ...] = ()

    @property
    def cell_extras(self) -> tuple[str, ...]:
        return self.scenario.extras if self.extras is None else self.extras

    @property
    def variant(self) -> str:
        """What sets this cell apart beyond version and Python: `[standard] http=h11`."""
        parts = [f"[{','.join(self.cell_extras)}]"] if self.cell_extras else []
        parts += [f"{name}={value}" for name, value in self.axes]
        if self.resolution != "latest":
            parts.append(f"resolution={self.resolution}")
        return " ".join(parts)

    @property
    def label(self) -> str:
        label = f"{self.scenario.id} {self.scenario.package} {self.version} py{self.python.label}"
        return f"{label} {self.variant}" if self.variant else label

    def exclude_newer(self) -> str | None:
        """The upload-date bound for `release-date` resolution (end of that UTC day)."""
        if self.resolution != "release-date" or self.release is None:
            return None
        if self.release.upload_time is None:
            return None
        return self.release.upload_time.strftime("%Y-%m-%dT23:59:59Z")

    @property
    def runnable(self) -> bool:
        return self.skip_reason is None and self.python.interpreter is not None

    @property
    def key(self) -> CellKey:
        """Its identity; equal to the `CellResult.key` of its result."""
        scenario = self.scenario
        return cell_key(scenario.id, scenario.package, str(self.version), self.python.label,
                        self.platform, self.cell_extras, self.axes, self.resolution)  # fmt: skip


def versions_for(
    scenario: Scenario,
    selector: str | None,
    index: ReleaseIndex,
    include_prereleases: bool = False,
) -> list[tuple[Version, Release]]:
    """The releases a scenario runs: the selector, or its declared defaults."""
    releases = index.releases(scenario.package)
    by_version = {release.version: release for release in releases}
    boundaries = scenario.claim_boundaries()
    chosen: set[Version] = set()
    selectors = [selector] if selector else [*scenario.default_versions, "latest"]
    for item in selectors:
        chosen.update(
            resolve_selector(item, releases, scenario.package, boundaries, include_prereleases)
        )
    if not selector:
        eligible = sorted(
            release.version
            for release in releases
            if not release.yanked and (include_prereleases or not release.version.is_prerelease)
        )
        listed = [v for v in by_version if not by_version[v].yanked]
        chosen.update(claim_edges(boundaries, eligible, listed))
    return [(version, by_version[version]) for version in sorted(chosen)]


def _released_after_python(release: Release, interpreter: Interpreter) -> bool:
    born = PYTHON_RELEASE_DATES.get(interpreter.minor)
    return release.upload_time is None or born is None or release.upload_time >= born


@dataclass(frozen=True)
class PlatformPlan:
    """What planning needs from a target platform."""

    platform: str
    pythons: PythonSource
    #: why no cell can run on this platform here (cells become skips)
    unavailable: str | None = None


def default_pythons(
    release: Release, finder: PythonSource, only: Sequence[str] = ()
) -> list[PythonRequest]:
    """The oldest and newest found interpreters this release supports.

    "Supports" means its `requires-python` admits it and the release is not
    older than that Python (so the pair was ever testable upstream).  `only`:
    the minors a scenario's `[matrix] python` allows (missing ones are skips).
    """
    if only:
        requests = finder.resolve_all(only)
        found = [r.interpreter for r in requests if r.interpreter is not None]
        if not found:
            return requests
        candidates = sorted(found, key=lambda i: i.version)
    else:
        candidates = [i for i in finder.discovered() if i.version >= DEFAULT_PYTHON_FLOOR]
    allowed = [i for i in candidates if release.supports_python(i.version)]
    dated = [i for i in allowed if _released_after_python(release, i)] or allowed[:1]
    if not dated:
        return []
    chosen = [dated[0]] if len(dated) == 1 else [dated[0], dated[-1]]
    return [PythonRequest(i.minor, i) for i in chosen]


def plan_cells(
    scenarios: Sequence[Scenario],
    selector: str | None,
    python_texts: Sequence[str],
    platforms: Sequence[PlatformPlan],
    index: ReleaseIndex,
    include_prereleases: bool = False,
    resolutions: Sequence[str] = (),
) -> list[Cell]:
    """Every cell of the run, runnable or skipped; raises when there are none.

    Per release, platform and Python, one cell per combination of the scenario's
    matrix axes, extras and resolutions (`resolutions` given here win over the
    scenario's own).
    """
    explicit = {
        target.platform: target.pythons.resolve_all(python_texts) if python_texts else None
        for target in platforms
    }
    cells: list[Cell] = []
    for scenario in scenarios:
        variants = cell_variants(scenario, resolutions)
        versions = versions_for(scenario, selector, index, include_prereleases)
        for target in platforms:
            for version, release in versions:
                pythons = explicit[target.platform]
                if pythons is None:
                    pythons = default_pythons(release, target.pythons, scenario.matrix.pythons)
                for request in pythons:
                    for axes, extras, resolution in variants:
                        cell = plan_cell(
                            scenario, version, release, request, target.platform,
                            target.unavailable,
                        )  # fmt: skip
                        cells.append(with_variant(cell, axes, extras, resolution))
    if not cells:
        raise EmptySelectionError("the selection is empty: no scenario, version and Python matched")
    return sorted(
        cells, key=lambda c: (c.scenario.id, c.python.label, c.platform, c.variant, c.version)
    )


Variant = tuple[tuple[tuple[str, str], ...], tuple[str, ...] | None, str]


def cell_variants(scenario: Scenario, resolutions: Sequence[str] = ()) -> list[Variant]:
    """Every (axes, extras, resolution) combination of the scenario's matrix;
    `resolutions` given here win over the scenario's own."""
    matrix = scenario.matrix
    return [
        (axes, extras, resolution)
        for axes in matrix.combinations()
        for extras in (matrix.extras or (None,))
        for resolution in (resolutions or matrix.resolutions or ("latest",))
    ]


def with_variant(
    cell: Cell,
    axes: tuple[tuple[str, str], ...],
    extras: tuple[str, ...] | None,
    resolution: str,
) -> Cell:
    reason = cell.skip_reason
    undated = cell.release is not None and cell.release.upload_time is None
    if reason is None and resolution == "release-date" and undated:
        reason = (
            f"the index gives no upload time for {cell.scenario.package} {cell.version}: "
            "cannot resolve as of its release date"
        )
    if reason is None:
        # Not applicable from the key alone (a release or Python the scenario or
        # this variant does not apply to): skipped without building anything.
        interpreter = cell.python.interpreter
        site = CellSite(
            cell.scenario.package,
            cell.version,
            interpreter.version if interpreter else None,
            dict(axes),
        )
        reason = cell.scenario.applicability.static_reason(site)
    return replace(cell, axes=axes, extras=extras, resolution=resolution, skip_reason=reason)


def cells_of(cell: Cell, resolutions: Sequence[str] = ()) -> list[Cell]:
    """A planned cell in each of its scenario's variants (bisect and narrowing probes)."""
    return [with_variant(cell, *variant) for variant in cell_variants(cell.scenario, resolutions)]


def plan_cell(
    scenario: Scenario,
    version: Version,
    release: Release,
    request: PythonRequest,
    platform: str,
    unavailable: str | None = None,
) -> Cell:
    """One cell, or its skip with the reason (platform, target, interpreter, requires-python).

    `unavailable` says why the target platform cannot run cells here (no Wine).
    """
    reason: str | None = None
    if not scenario.applies_to(platform):
        reason = f"scenario applies to {', '.join(sorted(scenario.platforms))} only"
    elif unavailable is not None:
        reason = unavailable
    elif request.interpreter is None:
        reason = request.reason
    elif not release.supports_python(request.interpreter.version):
        reason = (
            f"{scenario.package} {version} requires Python {release.requires_python}, "
            f"not {request.interpreter.version}"
        )
    return Cell(scenario, version, request, platform, release, reason)
