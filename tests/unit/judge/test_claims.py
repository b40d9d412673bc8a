"""Claim verdicts from hand-made cells."""

from __future__ import annotations

import dataclasses

from packaging.version import Version

from harness.envs.backends import OFFLINE_NOTE
from harness.judge.claims import CONFIRMED, CONTRADICTED, REFINED, UNVERIFIABLE, judge_signature
from harness.judge.exit_codes import run_exit_code as exit_code_for
from harness.results import CellResult
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS

SCENARIOS_BY_ID = load_scenarios([SCENARIOS])
PORT_ZERO = SCENARIOS_BY_ID["port-zero-startup"]
LINUX_SIG = PORT_ZERO.signature("port0-getpeername-enotconn")
RELEASES = [Version(v) for v in ("0.12.3", "0.13.0", "0.13.3", "0.13.4", "0.14.0", "0.15.0")]


def cell(version: str, outcome: str, platform: str = "linux") -> CellResult:
    signature = "port0-getpeername-enotconn" if outcome == "known-failure" else None
    return CellResult(
        scenario="port-zero-startup", package="uvicorn", version=version, python="3.8",
        platform=platform, outcome=outcome, expected=True, reason="", signature=signature,
    )  # fmt: skip


def judge(*cells: CellResult) -> tuple[str, str]:
    assert LINUX_SIG is not None
    verdict = judge_signature(PORT_ZERO, LINUX_SIG, list(cells), RELEASES)
    return verdict.verdict, verdict.detail


def test_refined_when_the_introduction_is_pinned() -> None:
    verdict, detail = judge(cell("0.13.3", "pass"), cell("0.13.4", "known-failure"),
                            cell("0.14.0", "pass"))  # fmt: skip
    assert verdict == REFINED and "introduced in 0.13.4" in detail


def test_refined_range_when_not_adjacent() -> None:
    verdict, detail = judge(cell("0.12.3", "pass"), cell("0.13.4", "known-failure"),
                            cell("0.14.0", "pass"))  # fmt: skip
    assert verdict == REFINED and "introduced after 0.12.3, by 0.13.4" in detail


def test_confirmed_without_an_older_passing_release() -> None:
    verdict, _ = judge(cell("0.13.4", "known-failure"), cell("0.14.0", "pass"))
    assert verdict == CONFIRMED


def test_contradicted_when_seen_after_the_fix() -> None:
    verdict, detail = judge(cell("0.13.4", "known-failure"), cell("0.15.0", "known-failure"))
    assert verdict == CONTRADICTED and "0.15.0" in detail


def test_contradicted_when_the_release_before_the_fix_passes() -> None:
    verdict, detail = judge(cell("0.13.4", "pass"), cell("0.14.0", "pass"))
    assert verdict == CONTRADICTED and "0.13.4" in detail


def test_unverifiable_on_another_platform_or_when_never_seen() -> None:
    assert judge(cell("0.13.4", "known-failure", platform="windows"))[0] == UNVERIFIABLE
    assert judge(cell("0.12.3", "pass"), cell("0.14.0", "pass"))[0] == UNVERIFIABLE


def test_windows_claim_is_unverifiable_on_linux() -> None:
    two = SCENARIOS_BY_ID["two-worker-startup"]
    signature = two.signature("workers-winerror-10022")
    assert signature is not None
    cells = [
        CellResult(scenario=two.id, package="uvicorn", version=v, python="3.8", platform="linux",
                   outcome="pass", expected=True, reason="")
        for v in ("0.12.1", "0.12.2")
    ]  # fmt: skip
    verdict = judge_signature(two, signature, cells, RELEASES)
    assert verdict.verdict == UNVERIFIABLE
    assert "windows" in verdict.detail and "linux" in verdict.detail


def test_evidence_says_which_edge_cells_were_added_or_reused() -> None:
    added = dataclasses.replace(cell("0.13.3", "pass"), origin="narrowing")
    reused = dataclasses.replace(cell("0.14.0", "pass"), from_cell_cache="2026-01-02T03:04:05Z")
    verdict, detail = judge(cell("0.12.3", "pass"), added, cell("0.13.4", "known-failure"), reused)
    assert verdict == REFINED and "introduced in 0.13.4" in detail
    assert "0.13.3: a cell added to pin the edge, ran now" in detail
    assert "0.14.0: a cell, reused from the cell cache, observed 2026-01-02T03:04:05Z" in detail
    plain = judge(cell("0.13.3", "pass"), cell("0.13.4", "known-failure"), cell("0.14.0", "pass"))
    assert "evidence" not in plain[1], "nothing to say when every edge cell ran as selected"


def test_added_cells_inform_claims_but_do_not_gate_the_run() -> None:
    selected = cell("0.14.0", "pass")
    added = dataclasses.replace(cell("0.13.1", "new-failure"), expected=False, origin="narrowing")
    assert exit_code_for([selected, added], [], complete=True) == 0
    unexpected = dataclasses.replace(selected, expected=False)
    assert exit_code_for([unexpected, added], [], complete=True) == 1


def test_an_install_that_fails_offline_is_infrastructure() -> None:
    failed = dataclasses.replace(
        cell("0.14.0", "install-error"),
        expected=False,
        reason=f"uv pip install ({OFFLINE_NOTE}) failed: uvicorn==0.14.0 not available",
    )
    assert exit_code_for([failed], [], complete=True) == 2
