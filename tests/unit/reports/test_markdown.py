"""The pull-request comment: verdict, overview table, failures with links, the rest folded."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reports.markdown import BUDGET_CHARS, append_to_step_summary, md, render_markdown
from tests.unit.report_data import PYTHONS, VERSIONS, all_cells, cell, report_of, results


def test_the_verdict_then_the_overview_then_what_failed() -> None:
    text = render_markdown(report_of(results(all_cells())))
    lines = text.splitlines()
    assert lines[0] == "## ✅ no regression: 16 cell(s), 0 unexpected"
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| scenario | releases tested, merged into ranges")
    port = next(line for line in table if line.startswith("| port-zero-startup |"))
    assert port == (
        "| port-zero-startup | 3.8–3.11: ✓ 0.9.0–0.13.3 · **✗ 0.13.4–0.13.10 "
        "port0-getpeername-enotconn [#974][r1]** · ✓ 0.14.0 |"
    )
    # Each URL once, as a reference at the end, however many lines point at it.
    assert text.count("[r1]: <https://github.com/Kludex/uvicorn/issues/974>") == 1
    assert (
        "Newest release with no known failure, per Python: 3.8 **0.14.0** · 3.11 **0.14.0**" in text
    )
    assert "_Marks:_ ✓ pass · ✗ known bug · ! unexpected" in text
    assert "### Failing and unexpected" in text
    assert (
        "- ✗ port-zero-startup 0.13.4–0.13.10 (py3.8–3.11): port0-getpeername-enotconn; "
        "[issue #974][r1], [fix: PR #975][r2]"
    ) in text
    claims = text.index("<details><summary>Claims checked (")
    assert text.index("**refined**") > claims  # claims are folded
    assert text.index("</details>") < text.index("[r1]: <")


def test_an_unexpected_cell_is_listed_with_why() -> None:
    late = cell("0.14.0", "3.8", "new-failure", expected=False, signature=None,
                fingerprint="RuntimeError: <boom> | here")  # fmt: skip
    cells = [c for c in all_cells() if c.key != late.key] + [late]
    text = render_markdown(report_of(results(cells)))
    assert text.startswith("## ❌ regression in 1 scenario(s)")
    assert "Regressed: **port-zero-startup**" in text
    assert (
        "- **unexpected** port-zero-startup 0.14.0 py3.8 linux: NEW failure: "
        r"RuntimeError: \<boom\> \| here"
    ) in text
    assert r"**✗ 0.14.0 RuntimeError: \<boom\> \| here** **!**" in text


def test_a_large_report_stays_within_the_budget() -> None:
    cells = [
        cell(version, python, scenario=name)
        for name in ("port-zero-startup", "two-worker-startup")
        for version in VERSIONS
        for python in PYTHONS
    ]
    fingerprints = [f"RuntimeError: failure number {i} " + "x" * 200 for i in range(60)]
    cells += [
        cell(f"0.{20 + i}.0", "3.8", "new-failure", expected=False, fingerprint=fingerprint)
        for i, fingerprint in enumerate(fingerprints)
    ]
    report = report_of(results(cells))
    full = render_markdown(report, budget=10**9)
    assert len(full.encode()) > BUDGET_CHARS
    text = render_markdown(report)
    assert len(text.encode()) <= BUDGET_CHARS
    assert "more (the HTML report has them all)" in text
    assert text.startswith("## ❌ regression")


def test_a_link_that_would_break_out_of_its_definition_is_text() -> None:
    run = results(all_cells())
    run.scenarios = {
        "port-zero-startup": {"upstream": {"issue": "https://x.org/issues/1>\n[r1]: <evil>"}}
    }
    text = render_markdown(report_of(run, scenarios={}))
    assert "evil" not in text and "[r1]:" not in text


def test_escaping_and_the_job_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert md("a|b <script> `x` *y* [z](u)") == r"a\|b \<script\> \`x\` \*y\* \[z\](u)"
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert append_to_step_summary(render_markdown(report_of(results(all_cells())))) == summary
    assert summary.read_text().startswith("earlier step\n## ✅ no regression: ")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "")
    assert append_to_step_summary("x") is None
