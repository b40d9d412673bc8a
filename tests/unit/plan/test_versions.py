"""Version selectors resolve against the index's releases, strictly."""

from __future__ import annotations

import pytest
from packaging.version import Version

from harness.envs.index import Release
from harness.errors import VersionSelectionError
from harness.plan.versions import parse_selector, resolve_selector

RELEASES = [
    Release(Version(v))
    for v in ["0.11.8", "0.12.0", "0.12.1", "0.12.2", "0.12.3", "0.13.3", "0.13.4", "0.14.0",
              "0.15.0", "0.16.0rc1"]
] + [Release(Version("0.17.0"), yanked=True)]  # fmt: skip


def resolve(selector: str, **kwargs: object) -> list[str]:
    return [str(v) for v in resolve_selector(selector, RELEASES, "uvicorn", **kwargs)]  # type: ignore[arg-type]


def test_explicit_list() -> None:
    assert resolve("0.13.3,0.13.4,0.14.0") == ["0.13.3", "0.13.4", "0.14.0"]


def test_range_excludes_prereleases_and_yanked() -> None:
    assert resolve(">=0.12,<0.15") == [
        "0.12.0", "0.12.1", "0.12.2", "0.12.3", "0.13.3", "0.13.4", "0.14.0",
    ]  # fmt: skip
    assert "0.16.0rc1" not in resolve(">=0.15")
    assert "0.17.0" not in resolve(">=0.15")
    assert resolve(">0.15", include_prereleases=True) == ["0.16.0rc1"]


def test_latest_and_latest_n() -> None:
    assert resolve("latest") == ["0.15.0"]
    assert resolve("latest-3") == ["0.13.4", "0.14.0", "0.15.0"]


def test_minors_adds_claim_boundaries() -> None:
    assert resolve("minors") == ["0.11.8", "0.12.3", "0.13.4", "0.14.0", "0.15.0"]
    boundaries = [Version("0.12.2")]
    assert "0.12.2" in resolve("minors", boundaries=boundaries)


def test_named_items_intersect_with_a_range() -> None:
    assert resolve("minors,>=0.13") == ["0.13.4", "0.14.0", "0.15.0"]


def test_unknown_version_is_an_error() -> None:
    with pytest.raises(VersionSelectionError, match=r"unknown version 0\.13\.9 of uvicorn"):
        resolve("0.13.9")


@pytest.mark.parametrize("selector", ["", "0.13.3,,0.14.0", "banana", ">=zero", "latest-0"])
def test_malformed_selectors(selector: str) -> None:
    with pytest.raises(VersionSelectionError):
        parse_selector(selector)


def test_minors_covers_both_sides_of_each_claimed_edge() -> None:
    # fixed in 0.12.2: the release before it (0.12.1) is the claimed last bad one.
    assert resolve("minors", boundaries=[Version("0.12.2")]) == [
        "0.11.8", "0.12.1", "0.12.2", "0.12.3", "0.13.4", "0.14.0", "0.15.0",
    ]  # fmt: skip
    # ... also when the range cuts the minor series short.
    assert resolve("minors,>=0.12,<0.14", boundaries=[Version("0.13.4")]) == [
        "0.12.3", "0.13.3", "0.13.4",
    ]  # fmt: skip
