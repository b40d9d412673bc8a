"""How a bisect's outcome is worded, and which exit code each case gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.version import Version
from rich.console import Console

from harness.analyses.bisect import Mark, bisect, mark_of
from harness.analyses.bisect_setup import BisectSetup
from harness.engine.cellsource import Cost
from harness.envs.index import Release
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.reports.bisect import render, summary_json
from harness.results import CellResult
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS

PORT_ZERO = load_scenarios([SCENARIOS])["port-zero-startup"]
SIGNATURE = PORT_ZERO.signatures[0]
VERSIONS = ["0.12.0", "0.12.1", "0.12.2", "0.12.3", "0.13.0", "0.13.4", "0.14.0", "0.15.0"]
PY38 = PythonRequest("3.8", Interpreter(Path("/opt/py38/bin/python3"), Version("3.8.18")))


def setup(start: str, given: bool = False) -> BisectSetup:
    releases = [Release(Version(v)) for v in VERSIONS]
    return BisectSetup(
        scenario=PORT_ZERO, signatures=[SIGNATURE], any_failure=False, python=PY38,
        platform="linux", releases=releases, excluded=[], start=VERSIONS.index(start),
        start_reason="given with --bad" if given else "the last release before the claimed fix",
        start_given=given,
    )  # fmt: skip


def cell(version: str, outcome: str) -> CellResult:
    return CellResult(
        scenario=PORT_ZERO.id, package="uvicorn", version=version, python="3.8",
        platform="linux", outcome=outcome, expected=True, reason="reason",
        signature=SIGNATURE.id if outcome == "known-failure" else None,
        fingerprint="RuntimeError: boom" if outcome == "new-failure" else None,
        output_tail="getpeername()\nOSError: [Errno 107] Transport endpoint is not connected",
        checks=({"name": "ready", "ok": outcome == "pass", "detail": "d"},),
        origin="bisect", exit_code=0,
    )  # fmt: skip


def run(outcomes: Mapping[str, str], start: str, given: bool = False) -> tuple[str, int | None]:
    plan = setup(start, given)
    cells: dict[int, CellResult] = {}

    def oracle(batch: Sequence[int]) -> dict[int, Mark]:
        for index in batch:
            cells[index] = cell(VERSIONS[index], outcomes[VERSIONS[index]])
        return {i: mark_of(cells[i], {SIGNATURE.id}) for i in batch}

    result = bisect(
        len(VERSIONS), plan.start, oracle, anchors=plan.anchors(), require_start_bad=given
    )
    console = Console(record=True, width=300)
    problem = render(console, plan, result, cells, [], Cost(builds=result.probes))
    summary = summary_json(plan, result, Cost(), problem)
    assert summary["start"] == start
    assert summary["bound"] >= result.probes or problem is not None
    return console.export_text(), problem.exit_code if problem else None


def outcomes(bad: set[str], **other: str) -> dict[str, str]:
    table = {v: "known-failure" if v in bad else "pass" for v in VERSIONS}
    table.update({k.replace("_", "."): v for k, v in other.items()})
    return table


def test_exact_edges_with_evidence() -> None:
    text, code = run(outcomes({"0.13.4"}), "0.13.4")
    assert code is None
    assert "last good 0.13.0 -> first bad 0.13.4" in text
    assert "last bad 0.13.4 -> first good 0.14.0" in text
    assert "matched port0-getpeername-enotconn: OSError: [Errno 107]" in text
    assert "first bad = last bad 0.13.4" in text
    assert "2*log2(n)+4 = 10.0" in text
    assert "bound for 2 edge(s) over 8 release(s)" in text
    assert "failed installs per band: at most 0 (limit 4)" in text


def test_untestable_releases_widen_the_edge() -> None:
    text, code = run(outcomes({"0.13.0", "0.13.4"}, **{"0_12_3": "install-error"}), "0.13.4")
    assert code is None
    assert "untestable (install errors): 0.12.3, so the edge is at one of them or at" in text
    assert "install-failure band 0.12.3: 1 failed install(s) (cause: reason)" in text


def test_a_different_failure_below_the_edge_is_called_out() -> None:
    text, _ = run(outcomes({"0.13.4"}, **{"0_13_0": "new-failure"}), "0.13.4")
    assert "0.13.0 did not show the failure but did not pass either (new-failure)" in text


def test_ends_of_the_range() -> None:
    text, code = run(outcomes(set(VERSIONS) - {"0.15.0"}), "0.13.4")
    assert "bad already at the start of the range (0.12.0)" in text and code is None
    text, _ = run(outcomes({"0.14.0", "0.15.0"}), "0.14.0")
    assert "still bad at the end of the range (0.15.0): not fixed in it" in text


def test_several_ranges_are_each_reported_and_exit_0() -> None:
    text, code = run(outcomes({"0.12.0", "0.12.1", "0.13.4"}), "0.13.4")
    assert code is None, "several ranges are an answer (the claim's verdict judges them)"
    assert "range 1 of 2:" in text and "range 2 of 2:" in text
    assert "last bad 0.12.1 -> first good 0.12.2" in text
    assert "last good 0.13.0 -> first bad 0.13.4" in text


def test_a_start_that_does_not_fail() -> None:
    text, code = run(outcomes(set()), "0.13.4")
    assert code == 1, "the claim says the release before the fix is bad"
    assert "does not show the failure (pass): the claim does not hold here" in text
    text, code = run(outcomes(set()), "0.13.4", given=True)
    assert code == 3 and "--bad 0.13.4 does not show the failure" in text
    text, code = run(outcomes(set(), **{"0_13_4": "install-error"}), "0.13.4", given=True)
    assert code == 3 and "cannot start: 0.13.4 could not be tested" in text
    text, code = run(outcomes({"0.13.0"}, **{"0_13_4": "install-error"}), "0.13.4")
    assert code is None, "the claim's own start cannot be built here: the ranges still stand"
    assert "last good 0.12.3 -> first bad 0.13.0" in text
