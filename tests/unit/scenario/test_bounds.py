"""A scenario's declared work is bounded (harness.scenario.bounds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.bounds import MAX_CELL_S, MAX_VARIANTS
from harness.scenario.loader import load_scenario
from tests.conftest import MINIMAL_SCENARIO

Write = Callable[[str, str], Path]


def test_the_minimal_scenario_is_within_bounds(write_scenario: Write) -> None:
    assert (
        load_scenario(write_scenario(MINIMAL_SCENARIO, "demo.toml")).max_duration_s() < MAX_CELL_S
    )


def test_a_cell_that_could_take_too_long_is_refused(write_scenario: Write) -> None:
    text = MINIMAL_SCENARIO.replace("status = 200", "status = 200\nwait_s = 900")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(text, "demo.toml"))
    assert caught.value.field == "limits"
    assert "wait_s adding up to 900" in caught.value.problem


def test_too_many_variants_are_refused(write_scenario: Write) -> None:
    axes = "[matrix]\na = [" + ", ".join(f'"{n}"' for n in range(MAX_VARIANTS + 1)) + "]\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(MINIMAL_SCENARIO + axes, "demo.toml"))
    assert caught.value.field == "matrix"
    assert f"{MAX_VARIANTS + 1} variants" in caught.value.problem
