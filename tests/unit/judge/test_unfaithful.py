"""Emulated platforms: windows-wine counts as Windows, except where a scenario says not."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version
from rich.console import Console

from harness.errors import ScenarioError
from harness.judge.claims import CONFIRMED, REFINED, UNVERIFIABLE, judge_signature
from harness.judge.classify import classify
from harness.outcomes import Outcome
from harness.platforms import family
from harness.reports.html import render_html
from harness.reports.junit import render_junit
from harness.reports.terminal import render_matrix
from harness.results import CellResult
from harness.runner.observation import Check, Observation
from harness.scenario.loader import load_scenario, load_scenarios
from tests.conftest import FIXTURES, MINIMAL_SCENARIO, SCENARIOS
from tests.unit.report_data import cell as report_cell
from tests.unit.report_data import report_of, results

WriteScenario = Callable[..., Path]
BUILTIN = load_scenarios([SCENARIOS])
PORT_ZERO = BUILTIN["port-zero-startup"]
TWO_WORKERS = BUILTIN["two-worker-startup"]
WINE_CRASH = (FIXTURES / "windows-wine" / "port-zero-startup-0.13.4-py3.8.txt").read_text()
WINE_WORKERS = (FIXTURES / "windows-wine" / "two-worker-startup-0.12.1-py3.8.txt").read_text()


def observation(ok: bool, output: str = "") -> Observation:
    return Observation(
        checks=(Check("ready", ok, "detail"),), ready=ok, ready_timed_out=False,
        stop_timed_out=False, exit_code=0 if ok else 1, duration_s=0.1, output=output,
    )  # fmt: skip


def cell(scenario: str, version: str, outcome: str, signature: str | None = None) -> CellResult:
    return CellResult(
        scenario=scenario, package="uvicorn", version=version, python="3.8",
        platform="windows-wine", outcome=outcome, expected=True, reason="", signature=signature,
    )  # fmt: skip


def test_windows_wine_belongs_to_the_windows_family() -> None:
    assert family("windows-wine") == "windows"
    assert family("linux") == "linux"
    assert PORT_ZERO.applies_to("windows-wine")
    windows_sig = PORT_ZERO.signature("port0-winerror-10057")
    linux_sig = PORT_ZERO.signature("port0-getpeername-enotconn")
    assert windows_sig is not None and windows_sig.applies_to("windows-wine")
    assert linux_sig is not None and not linux_sig.applies_to("windows-wine")


def test_a_windows_signature_matched_under_wine_is_a_known_failure() -> None:
    verdict = classify(PORT_ZERO, Version("0.13.4"), "windows-wine", observation(False, WINE_CRASH))
    assert (verdict.outcome, verdict.signature, verdict.expected) == (
        Outcome.KNOWN_FAILURE,
        "port0-winerror-10057",
        True,
    )


def test_builtin_two_workers_declare_wine_unfaithful() -> None:
    reason = TWO_WORKERS.unfaithful_reason("windows-wine")
    assert reason is not None and "WinError 10022 cannot occur under Wine" in reason
    assert TWO_WORKERS.unfaithful_reason("windows") is None
    assert PORT_ZERO.unfaithful_reason("windows-wine") is None


@pytest.mark.parametrize("ok", [True, False])
def test_unfaithful_cells_are_expected_and_keep_what_was_seen(ok: bool) -> None:
    verdict = classify(TWO_WORKERS, Version("0.12.1"), "windows-wine", observation(ok))
    assert verdict.outcome == Outcome.UNFAITHFUL and verdict.expected and verdict.signature is None
    assert verdict.reason.startswith("unfaithful here: Wine shares")
    seen = "pass" if ok else "new-failure"
    assert verdict.reason.endswith(f"(observed on windows-wine: {seen})")
    on_linux = classify(TWO_WORKERS, Version("0.12.1"), "linux", observation(True))
    assert on_linux.outcome == Outcome.PASS


def test_a_signature_seen_on_an_unfaithful_platform_counts_for_nothing() -> None:
    crash = WINE_WORKERS + "\nOSError: [WinError 10022] Windows Error 0x2736\n"
    verdict = classify(TWO_WORKERS, Version("0.12.1"), "windows-wine", observation(False, crash))
    assert verdict.outcome == Outcome.UNFAITHFUL and verdict.signature is None
    assert "(observed on windows-wine: known-failure (workers-winerror-10022))" in verdict.reason


def test_claims_are_never_confirmed_by_unfaithful_cells() -> None:
    signature = TWO_WORKERS.signature("workers-winerror-10022")
    assert signature is not None
    cells = [cell("two-worker-startup", v, Outcome.UNFAITHFUL) for v in ("0.12.1", "0.12.2")]
    verdict = judge_signature(TWO_WORKERS, signature, cells, [Version("0.12.1")])
    assert verdict.verdict == UNVERIFIABLE
    assert "windows-wine" in verdict.detail and "unfaithful" in verdict.detail


def test_faithful_wine_cells_judge_windows_claims() -> None:
    signature = PORT_ZERO.signature("port0-winerror-10057")
    assert signature is not None
    cells = [
        cell("port-zero-startup", "0.13.3", Outcome.PASS),
        cell("port-zero-startup", "0.13.4", Outcome.KNOWN_FAILURE, "port0-winerror-10057"),
        cell("port-zero-startup", "0.14.0", Outcome.PASS),
    ]
    releases = [Version(v) for v in ("0.13.3", "0.13.4", "0.14.0")]
    verdict = judge_signature(PORT_ZERO, signature, cells, releases)
    assert verdict.verdict in (CONFIRMED, REFINED)
    assert verdict.first_bad == "0.13.4" and verdict.first_good_after == "0.14.0"


def test_matrix_shows_unfaithful_here_with_the_reason() -> None:
    verdict = classify(TWO_WORKERS, Version("0.12.1"), "windows-wine", observation(True))
    result = CellResult(
        scenario="two-worker-startup", package="uvicorn", version="0.12.1", python="3.8",
        platform="windows-wine", outcome=verdict.outcome, expected=True, reason=verdict.reason,
    )  # fmt: skip
    out = io.StringIO()
    render_matrix(Console(file=out, width=120, color_system=None), [result])
    text = out.getvalue()
    cell_lines = [line for line in text.splitlines() if line.startswith("│")]
    assert "≈ unfaithful" in cell_lines[0] and "here" in cell_lines[1]  # folded in its column
    assert "windows-wine: unfaithful here: Wine shares" in text
    assert "observed on" not in text  # the per-cell observation stays in the results
    assert "1 unfaithful; 0 unexpected" in text


UNFAITHFUL_TABLE = """
[platform.windows-wine]
unfaithful = "Wine cannot do this"
"""


def test_loader_reads_platform_tables(write_scenario: WriteScenario) -> None:
    scenario = load_scenario(write_scenario(MINIMAL_SCENARIO + UNFAITHFUL_TABLE))
    assert scenario.unfaithful == {"windows-wine": "Wine cannot do this"}


@pytest.mark.parametrize(
    ("table", "field", "problem"),
    [
        ('[platform.wine]\nunfaithful = "x"', "platform.wine", "unknown platform"),
        ('[platform.windows-wine]\nunfaithful = "  "', "platform.windows-wine.unfaithful",
         "must say why"),
        ("[platform.windows-wine]\nunfaithful = 3", "platform.windows-wine.unfaithful",
         "must be a string"),
        ('[platform.windows-wine]\nunfaithful = "x"\nwhen = 1', "platform.windows-wine.when",
         "unknown field"),
        ("[platform.windows-wine]", "platform.windows-wine.unfaithful", "is required"),
        ('platforms = ["linux"]\n[platform.windows-wine]\nunfaithful = "x"',
         "platform.windows-wine", "does not apply to windows"),
    ],
)  # fmt: skip
def test_loader_refuses_bad_platform_tables(
    write_scenario: WriteScenario, table: str, field: str, problem: str
) -> None:
    text = MINIMAL_SCENARIO
    if table.startswith("platforms"):
        first, _, table = table.partition("\n")
        text = text.replace('title = "a demo scenario"', f'title = "a demo scenario"\n{first}')
    path = write_scenario(text + "\n" + table + "\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.field == field, caught.value
    assert problem in caught.value.problem


def test_reports_show_unfaithful_cells_and_never_count_them() -> None:
    reason = classify(TWO_WORKERS, Version("0.12.1"), "windows-wine", observation(True)).reason
    wine = report_cell(
        "0.12.1", scenario="two-worker-startup", platform="windows-wine",
        outcome=Outcome.UNFAITHFUL, reason=reason, signature=None,
    )  # fmt: skip
    linux = report_cell("0.12.1", scenario="two-worker-startup")
    report = report_of(results([wine, linux]))
    page = render_html(report)
    assert '<td class="cell o-unfaithful" ' in page  # the cell itself, not just the legend
    assert 'data-outcome="unfaithful"' in page and "unfaithful here" in page
    junit = render_junit(report)
    assert "skipped" in junit and "unfaithful here: Wine shares" in junit
    (scenario,) = report.scenarios
    (claim,) = scenario.claims
    assert claim.verdict == UNVERIFIABLE
