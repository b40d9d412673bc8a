"""Narrowing: the gaps a sparse selection leaves beside a signature get pinned."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness.analyses.narrowing import find_gaps, narrow
from harness.envs.index import Release
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.judge.claims import REFINED, judge_signature
from harness.plan.cells import Cell, plan_cell
from harness.results import CellResult
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS

PORT_ZERO = load_scenarios([SCENARIOS])["port-zero-startup"]
SIGNATURE = "port0-getpeername-enotconn"
PY38 = PythonRequest("3.8", Interpreter(Path("/opt/py38/bin/python3"), Version("3.8.18")))
VERSIONS = ["0.12.3", "0.13.0", "0.13.1", "0.13.2", "0.13.3", "0.13.4", "0.14.0", "0.15.0"]
RELEASES = [Release(Version(v)) for v in VERSIONS]
TRUTH = {v: "known-failure" if v == "0.13.4" else "pass" for v in VERSIONS}


def result(version: str, outcome: str, origin: str = "selected") -> CellResult:
    return CellResult(
        scenario=PORT_ZERO.id, package="uvicorn", version=version, python="3.8",
        platform="linux", outcome=outcome, expected=True, reason="",
        signature=SIGNATURE if outcome == "known-failure" else None, origin=origin,
    )  # fmt: skip


class FakeSource:
    """Answers cells from `truth`; `cached` versions are free."""

    def __init__(self, truth: dict[str, str], cached: Sequence[str] = ()) -> None:
        self.truth = truth
        self.cached_versions = set(cached)
        self.asked: list[list[str]] = []

    def cached(self, cell: Cell) -> CellResult | None:
        version = str(cell.version)
        if version in self.cached_versions:
            return result(version, self.truth[version])
        return None

    def observe(self, cells: Sequence[Cell], origin: str) -> list[CellResult]:
        self.asked.append([str(cell.version) for cell in cells])
        return [result(str(c.version), self.truth[str(c.version)], origin) for c in cells]


def selection(*versions: str) -> tuple[list[Cell], list[CellResult]]:
    by_version = {r.version: r for r in RELEASES}
    cells = [plan_cell(PORT_ZERO, Version(v), by_version[Version(v)], PY38, "linux")
             for v in versions]  # fmt: skip
    return cells, [result(v, TRUTH[v]) for v in versions]


def test_a_minors_run_gets_its_introduction_pinned() -> None:
    cells, results = selection("0.12.3", "0.13.4", "0.14.0", "0.15.0")
    source = FakeSource(TRUTH)
    extra = narrow(source, [PORT_ZERO], cells, results, {"uvicorn": RELEASES}, "linux")
    assert all(cell.origin == "narrowing" for cell in extra)
    assert "0.13.3" in {cell.version for cell in extra}
    assert len(extra) <= 3, "a binary search over 4 releases"
    signature = PORT_ZERO.signature(SIGNATURE)
    assert signature is not None
    releases = [r.version for r in RELEASES]
    verdict = judge_signature(PORT_ZERO, signature, [*results, *extra], releases)
    assert verdict.verdict == REFINED
    assert "introduced in 0.13.4" in verdict.detail
    assert "0.13.3: a cell added to pin the edge, ran now" in verdict.detail
    # Without narrowing the same run can only bound the introduction.
    bounded = judge_signature(PORT_ZERO, signature, results, releases)
    assert "introduced after 0.12.3, by 0.13.4" in bounded.detail


def test_no_gap_no_extra_cells() -> None:
    cells, results = selection("0.13.3", "0.13.4", "0.14.0")
    source = FakeSource(TRUTH)
    assert narrow(source, [PORT_ZERO], cells, results, {"uvicorn": RELEASES}, "linux") == []
    assert source.asked == []


def test_windows_signatures_are_not_narrowed_on_linux() -> None:
    cells, results = selection("0.12.3", "0.13.4", "0.14.0")
    gaps = find_gaps([PORT_ZERO], cells, results, {"uvicorn": RELEASES}, "linux")
    assert [gap.signature.id for gap in gaps] == [SIGNATURE]
    assert find_gaps([PORT_ZERO], cells, results, {"uvicorn": RELEASES}, "freebsd") == []


def test_cached_cells_are_preferred_and_releases_for_other_pythons_left_out() -> None:
    releases = [
        Release(r.version, SpecifierSet(">=3.9") if str(r.version) == "0.13.1" else None)
        for r in RELEASES
    ]
    cells, results = selection("0.12.3", "0.13.4", "0.14.0")
    source = FakeSource(TRUTH, cached=["0.13.2"])
    extra = narrow(source, [PORT_ZERO], cells, results, {"uvicorn": releases}, "linux")
    asked = [version for batch in source.asked for version in batch]
    assert "0.13.1" not in asked, "requires-python excludes it: not a candidate"
    assert asked[0] == "0.13.2", "the cached release near the middle goes first"
    assert {cell.version for cell in extra} >= {"0.13.3"}


def test_a_release_already_in_the_run_is_not_asked_again() -> None:
    cells, results = selection("0.12.3", "0.13.4", "0.14.0")
    results.append(result("0.13.2", "install-error"))
    source = FakeSource(TRUTH)
    narrow(source, [PORT_ZERO], cells, results, {"uvicorn": RELEASES}, "linux")
    asked = [version for batch in source.asked for version in batch]
    assert "0.13.2" not in asked
    assert "0.13.3" in asked


def test_every_flip_of_a_history_with_two_bad_ranges_is_a_gap() -> None:
    """bad 0.12.3, good 0.13.2, bad 0.13.4, good 0.15.0: three open edges."""
    cells, _ = selection("0.12.3", "0.13.2", "0.13.4", "0.15.0")
    results = [result("0.12.3", "known-failure"), result("0.13.2", "pass"),
               result("0.13.4", "known-failure"), result("0.15.0", "pass")]  # fmt: skip
    gaps = find_gaps([PORT_ZERO], cells, results, {"uvicorn": RELEASES}, "linux")
    mine = [g for g in gaps if g.signature.id == SIGNATURE]
    spans = [(str(g.releases[0].version), str(g.releases[-1].version)) for g in mine]
    assert spans == [("0.12.3", "0.13.2"), ("0.13.2", "0.13.4"), ("0.13.4", "0.15.0")]
