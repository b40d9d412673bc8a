"""Version selectors: explicit lists, specifier ranges, `latest`, `latest-N`, `minors`.

A selector is a comma-separated list of items.  Specifier clauses (`>=0.12`,
`<0.15`) combine into one range; every other item (`0.13.4`, `latest`,
`latest-3`, `minors`) names releases; `minors` is the last patch of every
minor series plus both sides of every claimed edge (see `claim_edges`).  The
selection is the union of the named releases (or every release when none is
named), kept only where it is inside the range.  So `>=0.12,<0.15` is a range,
`0.13.3,0.13.4` a list, and `minors,>=0.12` the last patch of every minor
series from 0.12 on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.envs.index import Release
from harness.errors import VersionSelectionError

_LATEST_N = re.compile(r"^latest-(\d+)$")
_SPECIFIER_START = re.compile(r"^(~=|==|!=|<=|>=|<|>|===)")


def _split_items(selector: str) -> list[str]:
    items = [item.strip() for item in selector.split(",")]
    if not selector.strip() or any(not item for item in items):
        raise VersionSelectionError(f"--versions {selector!r}: empty item in the selector")
    return items


def parse_selector(selector: str) -> tuple[list[str], SpecifierSet | None]:
    """Split a selector into named items and one combined range; validates syntax."""
    named: list[str] = []
    clauses: list[str] = []
    for item in _split_items(selector):
        if _SPECIFIER_START.match(item):
            try:
                SpecifierSet(item)
            except InvalidSpecifier:
                raise VersionSelectionError(
                    f"--versions {selector!r}: {item!r} is not a valid version range"
                ) from None
            clauses.append(item)
        elif item in ("latest", "minors") or _LATEST_N.match(item):
            if item != "latest" and item != "minors" and int(item.split("-", 1)[1]) < 1:
                raise VersionSelectionError(f"--versions {selector!r}: {item!r} needs N >= 1")
            named.append(item)
        else:
            try:
                Version(item)
            except InvalidVersion:
                raise VersionSelectionError(
                    f"--versions {selector!r}: {item!r} is neither a version, a range "
                    "(>=X,<Y), 'latest', 'latest-N' nor 'minors'"
                ) from None
            named.append(item)
    return named, SpecifierSet(",".join(clauses)) if clauses else None


def last_patch_of_each_minor(versions: Iterable[Version]) -> list[Version]:
    """The newest release of every (major, minor) series."""
    newest: dict[tuple[int, int], Version] = {}
    for version in versions:
        key = (version.major, version.minor)
        if key not in newest or version > newest[key]:
            newest[key] = version
    return sorted(newest.values())


def claim_edges(
    boundaries: Iterable[Version], eligible: Sequence[Version], known: Iterable[Version]
) -> set[Version]:
    """Both sides of every claimed edge: each boundary and the release just before it.

    A claim "fixed in 0.14.0" is checked by 0.14.0 *and* the last release
    before it, which the claim says still has the bug.
    """
    listed = set(known)
    edges: set[Version] = set()
    for boundary in boundaries:
        if boundary in listed:
            edges.add(boundary)
        before = [version for version in eligible if version < boundary]
        if before:
            edges.add(before[-1])
    return edges


def resolve_selector(
    selector: str,
    releases: Sequence[Release],
    package: str,
    boundaries: Iterable[Version] = (),
    include_prereleases: bool = False,
) -> list[Version]:
    """The ordered versions a selector names among `releases`.

    Explicitly named versions must exist on the index (a typo is an error, not
    an empty run).  Yanked and pre-releases are only included when named.
    """
    named, range_spec = parse_selector(selector)
    known = {release.version: release for release in releases}
    eligible = sorted(
        release.version
        for release in releases
        if not release.yanked and (include_prereleases or not release.version.is_prerelease)
    )
    if not eligible:
        raise VersionSelectionError(f"the index lists no installable releases of {package}")
    chosen: set[Version] = set()
    for item in named:
        if item == "latest":
            chosen.add(eligible[-1])
        elif item == "minors":
            chosen.update(last_patch_of_each_minor(eligible))
            chosen.update(claim_edges(boundaries, eligible, known))
        elif match := _LATEST_N.match(item):
            chosen.update(eligible[-int(match.group(1)) :])
        else:
            version = Version(item)
            if version not in known:
                raise VersionSelectionError(
                    f"unknown version {item} of {package}: the configured index does not list it"
                )
            chosen.add(version)
    if not named:
        chosen.update(eligible)
    if range_spec is not None:
        chosen = {v for v in chosen if range_spec.contains(v, prereleases=include_prereleases)}
    return sorted(chosen)
