"""The terminal matrix at 80 columns: versions are paged into tables, never cut."""

from __future__ import annotations

import io

from rich.console import Console

from harness.reports.terminal import render_matrix
from tests.unit.report_data import cell

VERSIONS = [f"0.{minor}.{patch}" for minor in (12, 13) for patch in range(12)]


def _render(width: int) -> str:
    cells = [cell(v, p) for v in VERSIONS for p in ("3.8", "3.10", "3.11")]
    cells.append(cell("0.13.11", "3.12", "conflict", expected=False, reason="conflicting"))
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    render_matrix(console, cells, complete=True)
    return console.export_text()


def test_every_version_is_shown_whole_at_80_columns() -> None:
    text = _render(80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    headers = [line for line in lines if line.startswith("┃")]
    shown = {word for line in headers for word in line.replace("┃", " ").split()}
    assert set(VERSIONS) <= shown
    assert not any("…" in line for line in headers)
    assert "port-zero-startup (continued, versions 0.12.3-0.12.5, 2 of 8)" in text
    assert "≠ conflict" in text


def test_a_wide_console_needs_fewer_tables() -> None:
    assert _render(200).count("continued") < _render(80).count("continued")
