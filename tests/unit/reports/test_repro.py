"""Cell names and standalone scripts (content only; tests/e2e/test_cards.py runs them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.reports.repro import cell_name, find_cell, script_for
from harness.results import CellResult, load_results
from harness.scenario.loader import load_scenarios
from tests.conftest import SCENARIOS


def _cell(**changes: object) -> CellResult:
    fields: dict[str, object] = dict(
        scenario="port-zero-startup",
        package="uvicorn",
        version="0.13.4",
        python="3.8",
        platform="linux",
        outcome="known-failure",
        expected=True,
        reason="r",
        signature="port0-getpeername-enotconn",
        python_full="3.8.18",
        resolved={"uvicorn": "0.13.4", "click": "7.1.2", "h11": "0.16.0"},
    )
    fields.update(changes)
    return CellResult(**fields)  # type: ignore[arg-type]


def test_names_and_lookup() -> None:
    linux = _cell()
    wine = _cell(platform="windows-wine")
    extras = _cell(extras=("standard",), axes={"http": "h11"}, resolution="release-date")
    assert cell_name(linux) == "port-zero-startup:0.13.4:3.8:linux"
    assert cell_name(extras).endswith(":linux:[standard]:http=h11:resolution=release-date")
    cells = [linux, wine, extras]
    assert find_cell(cells, "port-zero-startup:0.13.4:py3.8:windows-wine") is wine
    assert find_cell(cells, "port-zero-startup:0.13.4:3.8:linux:http=h11") is extras
    with pytest.raises(UsageError, match="ambiguous"):
        find_cell(cells, "port-zero-startup:0.13.4:3.8")
    with pytest.raises(UsageError, match="no cell"):
        find_cell(cells, "port-zero-startup:0.99:3.8")


def test_shell_script_quotes_everything_it_writes() -> None:
    scenario = load_scenarios([SCENARIOS])["port-zero-startup"]
    script = script_for(_cell(), scenario)
    assert script.name == "port-zero-startup_0.13.4_3.8_linux.sh"
    text = script.text
    assert "'uvicorn==0.13.4'" in text and "'click==7.1.2'" in text
    delimiters = [
        line.split("<<'", 1)[1].rstrip("'") for line in text.splitlines() if "<<'" in line
    ]
    assert len(delimiters) == 2 and all(text.count("\n" + d + "\n") == 2 for d in delimiters)
    assert "'port': 0" in text and "getpeername" in text
    compile(
        text.split("cat > drive.py <<'", 1)[1].split("\n", 1)[1].rsplit("\nHARNESS", 1)[0],
        "drive.py",
        "exec",
    )


def test_powershell_for_windows_cells_and_hostile_pins() -> None:
    scenario = load_scenarios([SCENARIOS])["port-zero-startup"]
    script = script_for(_cell(platform="windows-wine"), scenario)
    assert script.shell == "ps1" and "@'" in script.text and "py -3.8" in script.text
    with pytest.raises(UsageError, match="plain pin"):
        script_for(_cell(resolved={"uvicorn": "0.13.4'; rm -rf ~"}), scenario)


def test_old_results_without_a_scenario_source_still_load(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    record = _cell().to_json()
    path.write_text(
        json.dumps(
            {"schema": 1, "cells": [record], "scenarios": {"port-zero-startup": {"title": "t"}}}
        )
    )
    assert load_results(path).cells[0].version == "0.13.4"
