"""Progress at 80 columns: counts, elapsed and ETA always shown; marks as in the summary."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from rich.console import Console

from harness.reports.progress import PlainProgress, RichProgress
from tests.unit.report_data import cell


def _cell(label: str) -> Any:
    return SimpleNamespace(label=label)


def test_the_live_display_keeps_counts_and_eta_at_80_columns() -> None:
    out = io.StringIO()
    console = Console(width=80, file=out, force_terminal=True, color_system=None)
    progress = RichProgress(console)
    progress.start(299)
    long = "two-worker-startup uvicorn 0.27.0.post1 py3.12 [standard] http=httptools"
    progress.cell_phase(_cell(long), "building environment")
    progress.cell_phase(_cell("port-zero-startup uvicorn 0.13.4 py3.8"), "running")
    progress.cell_finished(_cell("port-zero-startup uvicorn 0.13.3 py3.8"), cell("0.13.3"))
    known = cell("0.13.4")
    progress.cell_finished(_cell("port-zero-startup uvicorn 0.13.4 py3.8"), known)
    capture = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    for renderable in progress._progress.get_renderables():
        capture.print(renderable)
    bar, activity = capture.export_text().splitlines()
    progress.close()
    assert "2/299" in bar and "0:00:0" in bar and "ETA" in bar
    assert len(bar) <= 80 and len(activity) <= 80
    assert activity.startswith("building environment: two-worker-startup")
    printed = out.getvalue()
    assert "port-zero-startup uvicorn 0.13.3" not in printed  # a pass is counted, not listed
    assert "✗ port-zero-startup uvicorn 0.13.4 py3.8: known-failure" in printed
    assert "✓" not in printed.replace("✓ ", "")  # never a tick for a known bug


def test_plain_lines_carry_counts_and_the_same_mark() -> None:
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    progress = PlainProgress(console)
    progress.start(2)
    progress.cell_finished(_cell("port-zero-startup uvicorn 0.13.4 py3.8"), cell("0.13.4"))
    progress.cell_finished(_cell("port-zero-startup uvicorn 0.14.0 py3.8"), cell("0.14.0"))
    lines = console.export_text().splitlines()
    assert lines[0] == "running 2 cell(s)"
    assert (
        lines[1].startswith("[1/2 ") and "] ✗ port-zero-startup uvicorn 0.13.4 py3.8: " in lines[1]
    )
    assert "known-failure (port0-getpeername-enotconn)" in lines[1]
    assert lines[2].startswith("[2/2 ") and "] ✓ port-zero-startup uvicorn 0.14.0" in lines[2]
