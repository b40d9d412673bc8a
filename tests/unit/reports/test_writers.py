"""Merging, the report model and its writers, on hand-made results."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from junitparser import Failure, JUnitXml, Skipped

from harness.judge.claims import CONTRADICTED, REFINED
from harness.outcomes import Outcome
from harness.reports.html import render_html
from harness.reports.junit import render_junit, xml_text
from harness.reports.markdown import render_markdown
from harness.reports.merge import merge_results, merged_run_results
from harness.reports.model import RECOMPUTED, STORED
from harness.results import RunResults
from tests.junit_schema import validate_junit
from tests.unit.report_data import (
    PYTHONS,
    VERSIONS,
    all_cells,
    cell,
    evidence_of,
    report_of,
    results,
)


def test_rows_are_in_version_order_and_columns_in_python_order() -> None:
    cells = [
        cell(v, p)
        for v in ("0.13.10", "0.9.0", "0.10.0", "0.13.4")
        for p in ("3.11", "3.10", "3.8")
    ]
    (scenario,) = report_of(results(cells)).scenarios
    assert [row.version for row in scenario.rows] == ["0.9.0", "0.10.0", "0.13.4", "0.13.10"]
    assert [column.python for column in scenario.columns] == ["3.8", "3.10", "3.11"]


def test_claims_are_judged_again_from_the_merged_cells() -> None:
    report = report_of(results(all_cells()))
    claims = {c.signature: c for c in report.claims}
    linux = claims["port0-getpeername-enotconn"]
    assert linux.verdict == REFINED
    assert "introduced in 0.13.4" in linux.detail
    assert report.scenarios[0].claims_origin == RECOMPUTED


def test_stored_claims_are_shown_when_the_scenario_file_is_unknown() -> None:
    run = results(all_cells())
    run.claims = [
        {
            "scenario": "port-zero-startup",
            "signature": "port0-getpeername-enotconn",
            "claim": "fixed in 0.14.0",
            "platforms": ["linux"],
            "verdict": "confirmed",
            "detail": "as stored",
        }
    ]
    report = report_of(run, scenarios={})
    port_zero = report.scenarios[0]
    assert port_zero.claims_origin == STORED
    assert [(c.verdict, c.detail) for c in port_zero.claims] == [("confirmed", "as stored")]
    assert port_zero.title == "port-zero-startup"  # no stored scenario description either


def test_a_regression_after_the_fix_is_unexpected_and_contradicts_the_claim() -> None:
    late = cell("0.14.0", "3.8", "known-failure", expected=False, reason="regression: ...")
    cells = [c for c in all_cells() if c.key != late.key] + [late]
    report = report_of(results(cells))
    assert report.summary()["regressed"] == ["port-zero-startup"]
    assert report.summary()["unexpected"] == 1
    verdicts = {c.signature: c.verdict for c in report.claims}
    assert verdicts["port0-getpeername-enotconn"] == CONTRADICTED


def test_shards_merge_into_the_report_of_one_run() -> None:
    cells = all_cells()
    one = report_of(results(cells))
    shards = report_of(results(cells[::2]), results(cells[1::2]))
    # Only where each cell came from differs: the file list, and each cell's file.
    strip = re.compile(
        r'<section id="sources".*?</section>|<dt>results file</dt><dd>[^<]*|harness repro \S*'
        r'|id="evidence-data">.*?</script>',
        re.S,
    )
    assert strip.sub("", render_html(shards)) == strip.sub("", render_html(one))

    def evidence(page: str) -> dict[str, Any]:
        found = evidence_of(page)
        for shown in found.values():
            for observation in shown["observations"]:
                observation.pop("source")
        return found

    assert evidence(render_html(shards)) == evidence(render_html(one))
    assert render_markdown(shards) == render_markdown(one)
    assert render_junit(shards) == render_junit(one)


def test_the_same_file_twice_agrees_with_itself() -> None:
    run = results(all_cells())
    report = report_of(run, run)
    assert report.summary()["conflicts"] == 0
    assert report.summary()["unexpected"] == 0
    assert all(len(c.observations) == 2 for c in report.cells)


def test_a_conflict_is_shown_not_dropped() -> None:
    linux = results(all_cells())
    other = results([cell("0.13.4", "3.8", "pass")], started="2026-02-01T00:00:00Z")
    report = report_of(linux, other)
    conflicts = [c for c in report.cells if c.conflict]
    assert len(conflicts) == 1
    (conflict,) = conflicts
    assert conflict.outcome == Outcome.CONFLICT and not conflict.expected
    assert [o.cell.outcome for o in conflict.observations] == ["known-failure", "pass"]
    effective = conflict.effective()
    assert "known-failure (port0-getpeername-enotconn) in file0.json" in effective.reason
    assert "pass in file1.json" in effective.reason
    assert report.summary()["unexpected"] == 1
    assert "1 cell(s) have conflicting results" in report.notes
    page = render_html(report)
    assert 'data-outcome="conflict"' in page
    (shown,) = [
        e for e in evidence_of(page).values() if e["label"] == "uvicorn 0.13.4 · py3.8 linux"
    ]
    assert [o["outcome"] for o in shown["observations"]] == ["known-failure", "pass"]
    markdown = render_markdown(report)
    assert "3.8: ✓ 0.9.0–0.13.3 · **≠ 0.13.4** **!** · **✗ 0.13.10 " in markdown
    assert (
        "- **unexpected** port-zero-startup 0.13.4 py3.8 linux: conflict: conflicting" in markdown
    )
    failures = [
        case
        for suite in JUnitXml.fromstring(render_junit(report))
        for case in suite
        if any(isinstance(r, Failure) for r in case.result)
    ]
    assert [case.name for case in failures] == ["uvicorn==0.13.4 py3.8 linux"]


def test_a_merged_results_file_keeps_the_conflict() -> None:
    merged = merge_results(
        [("a", results(all_cells())), ("b", results([cell("0.13.4", "3.8", "pass")]))]
    )
    again = merged_run_results(merged, [])
    assert len(again.cells) == len(all_cells()) + 1
    assert merge_results([("merged", again)]).conflicts[0].first.version == "0.13.4"


def test_junit_is_valid_and_red_only_on_unexpected_cells(tmp_path: Path) -> None:
    late = cell("0.14.0", "3.8", "known-failure", expected=False)
    new = cell(
        "0.13.3",
        "3.11",
        "new-failure",
        expected=False,
        signature=None,
        fingerprint="RuntimeError: boom",
        output_tail="a\x00b\x1b[31mred ]]> \ufffe",
    )
    skipped = cell("0.9.0", "3.11", "skip", reason="interpreter 3.11 not found")
    replaced = {late.key, new.key, skipped.key}
    cells = [c for c in all_cells() if c.key not in replaced] + [late, new, skipped]
    path = tmp_path / "junit.xml"
    path.write_text(render_junit(report_of(results(cells))))
    validate_junit(path)
    xml = JUnitXml.fromfile(str(path))
    outcome = {}
    for suite in xml:
        for case in suite:
            outcome[(suite.name, case.name)] = [(type(r).__name__, r.message) for r in case.result]
    port = "port-zero-startup"
    assert outcome[(port, "uvicorn==0.14.0 py3.8 linux")] == [
        ("Failure", "known-failure: port0-getpeername-enotconn")
    ]
    assert outcome[(port, "uvicorn==0.13.3 py3.11 linux")] == [
        ("Failure", "new-failure: RuntimeError: boom")
    ]
    kind, message = outcome[(port, "uvicorn==0.13.4 py3.8 linux")][0]
    assert kind == "Skipped" and message.startswith("expected known failure (xfail)")
    assert outcome[(port, "uvicorn==0.9.0 py3.11 linux")] == [
        ("Skipped", "skip: interpreter 3.11 not found")
    ]
    assert outcome[(port, "uvicorn==0.10.0 py3.8 linux")] == []
    suites = {suite.name: suite for suite in xml}
    assert suites[port].failures == 2
    assert suites[port].skipped == 4 + 1  # 0.13.4 and 0.13.10 on two Pythons, and the skip
    assert suites["two-worker-startup"].failures == 0
    body = ET.parse(path).getroot().find(".//failure[@type='new-failure']")
    assert body is not None and "a\\x00b\\x1b[31mred ]]> \\ufffe" in (body.text or "")


def test_xml_text_keeps_what_xml_can_hold() -> None:
    assert xml_text("tab\tnl\nü€😀") == "tab\tnl\nü€😀"
    assert xml_text("\x07\x0c") == "\\x07\\x0c"


def test_skipped_message_is_the_reason_not_a_failure() -> None:
    xml = JUnitXml.fromstring(render_junit(report_of(results(all_cells()))))
    results_by_name = {case.name: case.result for suite in xml for case in suite}
    (skip,) = results_by_name["uvicorn==0.13.4 py3.8 linux"]
    assert isinstance(skip, Skipped)
    assert "port0-getpeername-enotconn" in (skip.message or "")


def test_an_incomplete_run_says_so_everywhere() -> None:
    run = results(all_cells())
    run = dataclasses.replace(run, complete=False)
    report = report_of(run)
    assert not report.complete
    assert "INCOMPLETE" in render_html(report)
    assert "INCOMPLETE" in render_markdown(report)


def test_results_without_release_lists_say_how_claims_were_judged() -> None:
    run = RunResults(cells=all_cells())
    report = report_of(run)
    assert any("do not list uvicorn's releases" in note for note in report.notes)
    assert len(report.cells) == len(VERSIONS) * len(PYTHONS) + 4


def test_cells_added_for_claims_inform_but_do_not_gate() -> None:
    added = cell("0.12.3", "3.8", "new-failure", expected=False, signature=None,
                 fingerprint="RuntimeError: boom", origin="narrowing")  # fmt: skip
    report = report_of(results([*all_cells(), added]))
    port = next(s for s in report.scenarios if s.id == "port-zero-startup")
    assert not port.unexpected and not port.regressed
    xml = JUnitXml.fromstring(render_junit(report))
    by_name = {(suite.name, case.name): case.result for suite in xml for case in suite}
    (result,) = by_name[("port-zero-startup", "uvicorn==0.12.3 py3.8 linux")]
    assert isinstance(result, Skipped)
    assert (result.message or "").startswith("not gated, added to pin a claim edge: new-failure")


def test_cells_that_differ_only_in_axes_or_resolution_get_their_own_columns(
    tmp_path: Path,
) -> None:
    variants = [
        cell("0.14.0", axes={"http": "h11"}),
        cell("0.14.0", axes={"http": "httptools"}),
        cell("0.14.0", axes={"http": "h11"}, resolution="release-date"),
    ]
    (scenario,) = report_of(results(variants)).scenarios
    labels = [column.label for column in scenario.columns]
    assert labels == [
        "py3.8 linux http=h11",
        "py3.8 linux http=h11 resolution=release-date",
        "py3.8 linux http=httptools",
    ]
    assert len(scenario.grid) == 3
    names = {testcase.name for suite in JUnitXml.fromstring(
        render_junit(report_of(results(variants)))) for testcase in suite}  # fmt: skip
    assert len(names) == 3


def test_every_range_and_every_matching_signature_reach_every_report() -> None:
    """A bad range, a pass, and the bug again: two observed ranges (the claim, with
    one range, is contradicted); one cell matched a second signature too."""
    cells = [
        cell("0.9.0", "3.8", "known-failure"),
        cell("0.10.0", "3.8", "pass"),
        cell("0.13.4", "3.8", also_matched=("cli-ctrl-c-aborted",)),
        cell("0.14.0", "3.8"),
    ]
    report = report_of(results(cells))
    claim = {c.signature: c for c in report.claims}["port0-getpeername-enotconn"]
    assert claim.verdict == CONTRADICTED
    assert "0.10.0 passes inside the claimed bad range, between 0.9.0 and 0.13.4" in claim.detail
    page = render_html(report)
    assert "… ✓ → 0.9.0 … 0.9.0 ✗ → 0.10.0 ✓" in page
    assert "0.10.0 ✓ → 0.13.4 … 0.13.4 ✗ → 0.14.0 ✓" in page
    # Evidence is drawn on demand from the page's JSON: the field, its value, its label.
    assert '"also_matched"' in page and "cli-ctrl-c-aborted" in page
    assert 'row(dl, "also matched"' in page
    markdown = render_markdown(report)
    assert "observed: … ✓ → 0.9.0 … 0.9.0 ✗ → 0.10.0 ✓; 0.10.0 ✓ → 0.13.4" in markdown
    late = cell(
        "0.15.0", "3.8", "known-failure", also_matched=("cli-ctrl-c-aborted",), expected=False
    )
    junit = render_junit(report_of(results([late])))
    assert "also matched: cli-ctrl-c-aborted" in junit, "in the failure of an unexpected cell"
