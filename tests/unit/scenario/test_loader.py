"""The loader accepts the built-in scenarios and refuses malformed ones by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from harness.errors import EXIT_USAGE, ScenarioError, UnknownScenarioError
from harness.scenario.loader import load_scenario, load_scenarios, select_scenarios
from tests.conftest import MINIMAL_SCENARIO, SCENARIOS

WriteScenario = Callable[..., Path]


def test_builtin_scenarios_load() -> None:
    scenarios = load_scenarios([SCENARIOS])
    assert {"port-zero-startup", "two-worker-startup"} <= set(scenarios)
    port_zero = scenarios["port-zero-startup"]
    assert port_zero.server.port == 0
    assert port_zero.server.app_dir.name == "server"
    linux = port_zero.signature("port0-getpeername-enotconn")
    assert linux is not None and linux.claim.fixed_in == Version("0.14.0")
    assert linux.platforms == {"linux", "macos"}
    two_workers = scenarios["two-worker-startup"]
    windows = two_workers.signature("workers-winerror-10022")
    assert windows is not None and windows.platforms == {"windows"}
    assert two_workers.logs[0].distinct_min == 2


def test_minimal_scenario_defaults(write_scenario: WriteScenario) -> None:
    scenario = load_scenario(write_scenario(MINIMAL_SCENARIO))
    assert scenario.package == "uvicorn"
    assert scenario.server.port is None  # the harness picks
    assert scenario.exit.signal == "SIGINT" and scenario.exit.codes == (0,)
    assert scenario.default_versions == ("latest",)
    assert scenario.signatures[0].platforms == scenario.platforms


def test_app_beside_the_scenario_file(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL_SCENARIO.replace("hello:app", "localapp:app"))
    (path.parent / "localapp.py").write_text("app = None\n")
    assert load_scenario(path).server.app_dir == path.parent.resolve()


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('id = "demo"', 'id = "Demo Scenario"', "id", "lower-case"),
        ('title = "a demo scenario"', "", "title", "is required"),
        ('status = 200', 'status = "200"', "expect.http[0].status", "must be an integer"),
        ('pattern = "Boom"', 'pattern = "(unclosed"', "signature[0].pattern", "regular expression"),
        ('fixed_in = "0.14.0"', 'fixed_in = "zero point fourteen"', "signature[0].fixed_in",
         "not a valid version"),
        ('"{host}"', '"0.0.0.0"', "server.command", "loopback"),
        ('"{port}"]', '"{port}", "{secret}"]', "server.command[6]", "unknown placeholder"),
        ('app = "hello:app"', 'app = "nothere:app"', "server.app", "not found"),
        ('[[expect.http]]', '[[expect.htttp]]', "expect.htttp", "unknown field"),
        ('title = "a demo scenario"', 'title = "t"\nplatforms = ["beos"]', "platforms",
         "unknown platform"),
        ('command = ["uvicorn"', 'command = ["bash"', "server.command", "must start with"),
    ],
)  # fmt: skip
def test_malformed_scenarios_name_file_and_field(
    write_scenario: WriteScenario, old: str, new: str, field: str, problem: str
) -> None:
    assert old in MINIMAL_SCENARIO
    path = write_scenario(MINIMAL_SCENARIO.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message
    assert field in message
    assert problem in message
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_USAGE


def test_invalid_toml_is_reported(write_scenario: WriteScenario) -> None:
    path = write_scenario("id = [unclosed\n")
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(path)


def test_duplicate_ids_are_refused(write_scenario: WriteScenario) -> None:
    first = write_scenario(MINIMAL_SCENARIO, "a.toml")
    write_scenario(MINIMAL_SCENARIO, "b.toml")
    with pytest.raises(ScenarioError, match="already defined"):
        load_scenarios([first.parent])


def test_unknown_scenario_is_a_usage_error() -> None:
    with pytest.raises(UnknownScenarioError, match="unknown scenario 'nope'"):
        select_scenarios(load_scenarios([SCENARIOS]), ["nope"])
