"""The summary after a run: release ranges per scenario, 80 columns, ranges never split."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from harness.reports.terminal_overview import MAX_SPANS, render_overview
from tests.unit.report_data import all_cells, cell, report_of, results


def _render(cells: list, width: int = 80, html: Path | None = None) -> str:  # type: ignore[type-arg]
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    render_overview(console, report_of(results(cells)), html)
    return console.export_text()


def test_one_line_of_ranges_when_the_pythons_agree() -> None:
    text = _render(all_cells())
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = lines.index(next(line for line in lines if line.startswith("port-zero-startup")))
    assert lines[header].startswith("port-zero-startup  12 cells  claims: 1 refined")
    assert lines[header + 1] == (
        "  py3.8–3.11  ✓ 0.9.0–0.13.3  ✗ 0.13.4–0.13.10 port0-getpeername-enotconn #974"
    )
    assert lines[header + 2].strip() == "✓ 0.14.0"
    (legend,) = [line for line in lines if line.startswith("legend:")]
    assert "✓ pass" in legend and "✗ known" in legend and len(legend) <= 80
    assert "  3.8    0.14.0   2 of 2 ran it" in lines
    assert lines[-1] == "16 cell(s): 4 known-failure, 12 pass; 0 unexpected"


def test_long_histories_break_between_ranges_never_inside() -> None:
    versions = [f"0.{minor}.{patch}" for minor in range(10, 19) for patch in (0, 1)]
    cells = [
        cell(v, p, "known-failure" if i % 3 == 0 else "pass", scenario="two-worker-startup",
             signature="a-long-signature-name-for-the-test" if i % 3 == 0 else None)
        for i, v in enumerate(versions)
        for p in ("3.8", "3.12")
    ]  # fmt: skip
    text = _render(cells)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    block = lines[1 : lines.index(next(line for line in lines if line.startswith("legend:")))]
    units = [u for line in block for u in re.split(r"\s{2,}", line.strip()) if u]
    assert units[0] == "py3.8–3.12"
    for unit in units[1:]:
        assert re.fullmatch(
            r"[✓✗] 0\.\d+\.\d(–0\.\d+\.\d)?( a-long-signature-name-for-the-test)?", unit
        )


def test_pythons_that_disagree_get_a_line_each_and_gaps_are_named() -> None:
    cells = [cell(v, "3.8") for v in ("0.13.3", "0.13.4", "0.14.0")]
    cells += [cell("0.13.4", "3.11", "pass"), cell("0.15.0", "3.11")]
    text = _render(cells)
    assert "  py3.8   ✓ 0.13.3  ✗ 0.13.4 port0-getpeername-enotconn #974  ✓ 0.14.0" in text
    assert "  py3.11  · 0.13.3 not run  ✓ 0.13.4  · 0.14.0 not run  ✓ 0.15.0" in text
    (legend,) = [line for line in text.splitlines() if line.startswith("legend:")]
    assert "· not run" in legend
    assert "to run every scenario on your Python: python -m harness run --python X.Y" in text


def test_unexpected_cells_with_their_full_fingerprint_and_evidence() -> None:
    fingerprint = "RuntimeError: " + " ".join(f"word{i}" for i in range(40))
    late = cell("0.14.0", "3.8", "new-failure", expected=False, signature=None,
                fingerprint=fingerprint)  # fmt: skip
    cells = [c for c in all_cells() if c.key != late.key] + [late]
    text = _render(cells, html=Path("reports/index.html"))
    assert "REGRESSED" in text
    assert "unexpected port-zero-startup uvicorn 0.14.0 py3.8 linux: ✗ NEW" in text
    flat = " ".join(text.split())
    assert f"fingerprint: {fingerprint}" in flat
    assert "evidence: file0.json (this cell's output_tail)" in text
    assert re.search(r"evidence in the page: reports/index\.html#cell-[0-9a-f]{12}", text)
    assert "1 unexpected" in text


def test_a_fragmented_history_shows_its_failing_ranges_and_counts_the_rest() -> None:
    versions = [f"0.{minor}.0" for minor in range(10, 40)]
    cells = [
        cell(v, p, "known-failure" if i % 2 else "pass", scenario="two-worker-startup",
             signature="sig" if i % 2 else None)
        for i, v in enumerate(versions)
        for p in ("3.8", "3.12")
    ]  # fmt: skip
    lines = _render(cells).splitlines()
    block = " ".join(lines[1 : lines.index(next(x for x in lines if x.startswith("legend:")))])
    assert block.count("✗ ") == MAX_SPANS and "✓ " not in block
    assert "+18 more ranges (--matrix full)" in block


def test_platforms_are_named_and_unfaithful_cells_say_why() -> None:
    why = "unfaithful here: Wine shares a socket"
    wine = cell("0.12.1", "3.8", "unfaithful", scenario="two-worker-startup",
                platform="windows-wine", reason=why)  # fmt: skip
    linux = cell("0.12.1", "3.8", scenario="two-worker-startup")
    text = _render([linux, wine])
    assert "  py3.8 linux" in text and "  py3.8 windows-wine" in text
    assert "  windows-wine: unfaithful here: Wine shares a socket" in text
    assert "≈ 0.12.1" in text
