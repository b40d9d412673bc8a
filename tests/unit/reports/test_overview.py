"""Merged release ranges: runs of identical results per scenario and Python."""

from __future__ import annotations

from harness.outcomes import Gap
from harness.reports.overview import (
    DASH,
    OverviewColumn,
    agreed,
    build_overview,
    cell_anchor,
    run_command,
    scenario_tracks,
    span_issue,
    supports,
)
from tests.unit.report_data import all_cells, cell, report_of, results


def _spans(track: object) -> list[tuple[str, str, str]]:
    return [(s.state.mark, s.label, s.state.detail) for s in track.spans]  # type: ignore[attr-defined]


def test_runs_of_identical_results_become_one_range() -> None:
    report = report_of(results(all_cells()))
    port = next(s for s in report.scenarios if s.id == "port-zero-startup")
    (together,) = agreed(port) or []
    assert together.pythons == ("3.8", "3.11")
    assert together.python_label == f"3.8{DASH}3.11"
    assert _spans(together) == [
        ("pass", f"0.9.0{DASH}0.13.3", ""),
        ("known-failure", f"0.13.4{DASH}0.13.10", "port0-getpeername-enotconn"),
        ("pass", "0.14.0", ""),
    ]
    bad = together.spans[1]
    assert bad.versions == ("0.13.4", "0.13.10") and len(bad.cells) == 4
    assert bad.specifier == ">=0.13.4,<=0.13.10"
    assert together.spans[2].specifier == "0.14.0"


def test_different_signatures_or_an_unexpected_cell_are_not_merged() -> None:
    other = cell("0.13.10", "3.8", "known-failure", signature="something-else")
    late = cell("0.14.0", "3.8", "known-failure", expected=False)
    cells = [c for c in all_cells() if c.key not in (other.key, late.key)] + [other, late]
    port = next(s for s in report_of(results(cells)).scenarios if s.id == "port-zero-startup")
    assert agreed(port) is None  # 3.8 and 3.11 now disagree on two releases
    by_python = {track.python: _spans(track) for track in scenario_tracks(port)}
    assert by_python["3.8"] == [
        ("pass", f"0.9.0{DASH}0.13.3", ""),
        ("known-failure", "0.13.4", "port0-getpeername-enotconn"),
        ("known-failure", "0.13.10", "something-else"),
        ("known-failure", "0.14.0", "port0-getpeername-enotconn"),
    ]
    (unexpected,) = [s for t in scenario_tracks(port) for s in t.spans if not s.state.expected]
    assert unexpected.label == "0.14.0" and unexpected.state.failing


def test_releases_not_run_on_a_python_are_a_gap_and_unsupported_ones_another() -> None:
    cells = [cell(v, "3.8") for v in ("0.13.3", "0.13.4", "0.14.0")] + [cell("0.15.0", "3.11")]
    run = results(cells)
    run.requires_python = {"uvicorn": {"0.15.0": ">=3.9", "0.14.0": ">=3.8"}}
    (port,) = report_of(run).scenarios
    by_python = {track.python: _spans(track) for track in scenario_tracks(port)}
    assert by_python["3.8"] == [
        ("pass", "0.13.3", ""),
        ("known-failure", "0.13.4", "port0-getpeername-enotconn"),
        ("pass", "0.14.0", ""),
        (Gap.NOT_SUPPORTED.value, "0.15.0", ""),
    ]
    assert by_python["3.11"] == [
        (Gap.NOT_RUN.value, f"0.13.3{DASH}0.14.0", ""),
        ("pass", "0.15.0", ""),
    ]
    gap = scenario_tracks(port)[0].spans[-1]
    assert gap.note == "requires Python >=3.9" and not gap.state.failing


def test_not_applicable_skips_get_their_own_mark() -> None:
    cells = [
        cell("0.13.3", "3.8", "skip", reason="not applicable: option --foo not in 0.13.3"),
        cell("0.13.4", "3.8", "skip", reason="not applicable: option --foo not in 0.13.4"),
        cell("0.14.0", "3.8", "skip", reason="scenario applies to windows only"),
        cell("0.15.0", "3.8"),
    ]
    (port,) = report_of(results(cells)).scenarios
    (track,) = scenario_tracks(port)
    assert _spans(track) == [
        (Gap.NOT_APPLICABLE.value, f"0.13.3{DASH}0.13.4", ""),
        ("skip", "0.14.0", "scenario applies to windows only"),
        ("pass", "0.15.0", ""),
    ]


def test_the_newest_release_with_no_known_failure_per_python() -> None:
    cells = [cell(v, "3.8") for v in ("0.13.3", "0.13.4", "0.14.0")]
    cells += [cell(v, "3.11") for v in ("0.13.3", "0.13.4")]
    cells += [cell("0.15.0", "3.8", "timeout", expected=False)]
    run = results(cells)
    run.requires_python = {"uvicorn": {"0.15.0": ">=3.8"}}
    overview = build_overview(report_of(run))
    assert overview.columns == (OverviewColumn("3.8", "linux"), OverviewColumn("3.11", "linux"))
    py38, py311 = overview.verdicts
    assert py38.newest_clean == "0.14.0" and py38.scenarios_ran == 1
    assert py38.newer_failing == (("0.15.0", ("port-zero-startup",)),)
    assert py38.newer_not_run is None
    assert py311.newest_clean == "0.13.3"
    assert py311.newer_failing == (("0.13.4", ("port-zero-startup",)),)
    assert py311.newer_not_run == ("0.14.0", "0.15.0")


def test_a_failing_span_links_the_issue_of_its_own_bug_only() -> None:
    ctrl_c = cell("0.14.0", "3.8", "known-failure", signature="cli-ctrl-c-aborted")
    cells = [cell("0.13.4", "3.8"), ctrl_c]
    (port,) = report_of(results(cells)).scenarios
    (track,) = scenario_tracks(port)
    own, neighbour = track.spans
    issue = span_issue(port, own)
    assert issue is not None and issue.label == "issue #974"
    assert span_issue(port, neighbour) is None  # a neighbouring bug, not issue 974


def test_helpers() -> None:
    assert supports(">=3.9", "3.8") is False and supports(">=3.9", "3.12") is True
    assert supports(None, "3.8") and supports("not a specifier", "3.8")
    assert run_command("3.12") == "python -m harness run --python 3.12"
    assert run_command("3.12", "port-zero-startup", ">=0.31.0,<=0.55.0") == (
        "python -m harness run --scenario port-zero-startup --python 3.12 "
        "--versions '>=0.31.0,<=0.55.0'"
    )
    report = report_of(results(all_cells()))
    anchors = {cell_anchor(c) for c in report.cells}
    assert len(anchors) == len(report.cells)
    assert all(a.startswith("cell-") for a in anchors)
