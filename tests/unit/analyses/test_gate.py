"""The gate's verdict: every candidate cell must pass; changes against the baseline."""

from __future__ import annotations

import pytest

from harness.analyses.gate import (
    describe_key,
    is_conflict,
    judge_gate,
    resolver_explanation,
)
from harness.errors import EmptySelectionError
from harness.reports.gate import render_gate_markdown
from harness.results import CellResult
from tests.unit.report_data import BUILTIN, cell

UV_CONFLICT = """\
Using Python 3.8.18 environment at: /cache/envs/uvicorn-0.14.0/bin/python
  \u00d7 No solution found when resolving dependencies:
  ╰─▶ Because uvicorn[standard]==0.14.0 depends on websockets>=9.1 and you require
      websockets==8.1, we can conclude that uvicorn[standard]==0.14.0 cannot be used.
      And because you require uvicorn[standard]==0.14.0, we can conclude that your
      requirements are unsatisfiable.
"""
PIP_CONFLICT = """\
ERROR: Cannot install uvicorn[standard]==0.14.0 because these package versions have conflicting dependencies.

The conflict is caused by:
    uvicorn[standard] 0.14.0 depends on websockets>=9.1; extra == "standard"
    The user requested (constraint) websockets==8.1

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""  # noqa: E501


def install_error(version: str, tail: str, python: str = "3.8") -> CellResult:
    return cell(
        version,
        python,
        "install-error",
        reason="uv pip install failed: " + tail.strip().splitlines()[-1],
        signature=None,
        output_tail=tail,
        expected=False,
    )


def judge(cells: list[CellResult], candidate: str, baseline: str | None = "0.13.3"):  # type: ignore[no-untyped-def]
    return judge_gate(cells, "uvicorn", candidate, baseline, BUILTIN)


def test_a_known_bug_fails_the_gate_and_names_its_fix() -> None:
    cells = [cell(v, p) for v in ("0.13.3", "0.13.4") for p in ("3.8", "3.11")]
    verdict = judge(cells, "0.13.4")
    assert verdict.exit_code == 1
    assert verdict.checked == 2
    assert [f.explanation for f in verdict.failing] == [
        "known bug port0-getpeername-enotconn, fixed in 0.14.0"
    ] * 2
    assert [describe_key(c.key) for c in verdict.newly_failing] == [
        "port-zero-startup py3.8 linux",
        "port-zero-startup py3.11 linux",
    ]
    assert verdict.newly_passing == verdict.still_failing == []
    assert "gate FAILED: uvicorn 0.13.3 -> 0.13.4: 2 of 2 cell(s) do not pass" in verdict.to_notes()


def test_the_fixed_release_passes_and_lists_what_got_better() -> None:
    cells = [cell(v, "3.8") for v in ("0.13.4", "0.14.0")]
    verdict = judge(cells, "0.14.0", baseline="0.13.4")
    assert verdict.exit_code == 0 and verdict.passed
    assert [describe_key(c.key) for c in verdict.newly_passing] == ["port-zero-startup py3.8 linux"]
    assert verdict.headline() == "gate PASSED: uvicorn 0.13.4 -> 0.14.0: all 1 cell(s) pass"


def test_still_failing_and_new_failure_explanations() -> None:
    new = cell("0.13.10", "3.8", "new-failure", signature=None, fingerprint="RuntimeError: boom")
    cells = [cell("0.13.4", "3.8"), new, cell("0.13.4", "3.11", "pass"), cell("0.13.10", "3.11")]
    verdict = judge(cells, "0.13.10", baseline="0.13.4")
    assert [f.explanation for f in verdict.failing] == [
        "new failure: RuntimeError: boom",
        "known bug port0-getpeername-enotconn, fixed in 0.14.0",
    ]
    assert [describe_key(c.key) for c in verdict.still_failing] == ["port-zero-startup py3.8 linux"]
    assert [describe_key(c.key) for c in verdict.newly_failing] == [
        "port-zero-startup py3.11 linux"
    ]


def test_a_known_bug_after_its_claimed_fix_says_so() -> None:
    back = cell("0.15.0", "3.8", "known-failure", signature="port0-getpeername-enotconn")
    verdict = judge([back], "0.15.0", baseline=None)
    assert verdict.failing[0].explanation == (
        "known bug port0-getpeername-enotconn, back although claimed fixed in 0.14.0"
    )
    assert verdict.newly_failing == [] and verdict.unmatched == []


def test_skips_do_not_count_but_running_nothing_is_an_error() -> None:
    skipped = cell("0.14.0", "3.13", "skip", reason="Python 3.13 not found")
    verdict = judge([cell("0.14.0", "3.8"), skipped], "0.14.0", baseline=None)
    assert verdict.exit_code == 0 and verdict.checked == 1
    with pytest.raises(EmptySelectionError, match=r"Python 3\.13 not found"):
        judge([skipped], "0.14.0", baseline=None)


def test_a_failing_cell_without_a_baseline_cell_is_listed_apart() -> None:
    cells = [cell("0.13.3", "3.8", "skip", reason="no 3.8"), cell("0.13.4", "3.8")]
    verdict = judge(cells, "0.13.4")
    assert verdict.exit_code == 1
    assert verdict.newly_failing == [] and len(verdict.unmatched) == 1


@pytest.mark.parametrize("tail", [UV_CONFLICT, PIP_CONFLICT])
def test_a_resolver_conflict_is_exit_2_with_the_resolvers_words(tail: str) -> None:
    conflict = install_error("0.14.0", tail)
    assert is_conflict(conflict)
    verdict = judge([cell("0.13.3", "3.8"), conflict], "0.14.0")
    assert verdict.exit_code == 2
    assert verdict.failing == [] and verdict.newly_failing == []
    assert verdict.headline().startswith("gate ERROR: uvicorn==0.14.0 conflicts with your pins")
    explanation = resolver_explanation(conflict)
    assert "websockets" in explanation and "Using Python" not in explanation
    markdown = render_gate_markdown(verdict)
    assert "```text" in markdown and "websockets==8.1" in markdown


def test_other_install_errors_fail_the_gate_and_network_errors_are_infrastructure() -> None:
    broken = install_error("0.14.0", "error: Failed to build `httptools==0.1.1`\n")
    assert not is_conflict(broken)
    verdict = judge([broken], "0.14.0", baseline=None)
    assert verdict.exit_code == 1
    assert verdict.failing[0].explanation.startswith("cannot be installed: uv pip install failed")
    offline = install_error("0.14.0", "error: Failed to fetch: `https://pypi.org/simple/h11/`\n")
    assert judge([offline], "0.14.0", baseline=None).exit_code == 2


def test_a_baseline_that_conflicts_is_noted_not_compared() -> None:
    cells = [install_error("0.13.3", UV_CONFLICT), cell("0.14.0", "3.8")]
    verdict = judge(cells, "0.14.0")
    assert verdict.exit_code == 0
    assert "itself conflicts with your pins" in verdict.notes[0]


def test_interrupted_is_130() -> None:
    verdict = judge_gate([cell("0.14.0")], "uvicorn", "0.14.0", None, BUILTIN, complete=False)
    assert verdict.exit_code == 130


def test_markdown_table_escapes_and_names_the_change() -> None:
    cells = [cell(v, "3.8") for v in ("0.13.3", "0.13.4")]
    markdown = render_gate_markdown(judge(cells, "0.13.4"))
    assert markdown.startswith("## ❌ gate FAILED: uvicorn 0.13.3 -\\> 0.13.4")
    assert (
        "| port-zero-startup py3.8 linux | ✓ pass | ✗ known | newly failing | "
        "known bug port0-getpeername-enotconn, fixed in 0.14.0 |"
    ) in markdown


def test_flaky_fails_the_gate_and_an_unjudged_cell_is_infrastructure() -> None:
    flaky = cell("0.14.0", "3.8", "flaky", signature=None, reason="2 of 3 attempts passed")
    verdict = judge([flaky], "0.14.0", baseline=None)
    assert verdict.exit_code == 1
    assert verdict.failing[0].explanation == "flaky (passes only sometimes): 2 of 3 attempts passed"
    taken = cell("0.14.0", "3.8", "error", signature=None, reason="port 8000 is already in use")
    verdict = judge([taken], "0.14.0", baseline=None)
    assert verdict.exit_code == 2 and verdict.failing == []
    assert verdict.headline() == "gate ERROR: the harness could not judge 1 cell(s)"


def test_a_bug_that_came_back_names_the_range_it_is_in() -> None:
    from harness.analyses.gate import explain_failure

    def leak(version: str) -> CellResult:
        return cell(version, "3.11", "known-failure", scenario="contextvars-keepalive-leak",
                    signature="contextvar-leaks-into-next-request")  # fmt: skip

    assert explain_failure(leak("0.38.0"), BUILTIN) == (
        "known bug contextvar-leaks-into-next-request, fixed in 0.39.0"
    )
    assert explain_failure(leak("0.55.0"), BUILTIN) == (
        "known bug contextvar-leaks-into-next-request, no fixed release known"
    ), "introduced again in 0.45.0 and not fixed since"
    assert explain_failure(leak("0.40.0"), BUILTIN) == (
        "known bug contextvar-leaks-into-next-request, back although claimed fixed in 0.39.0"
    )
