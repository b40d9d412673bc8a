"""Where a scenario, a variant or a check applies: parsing, and the reasons given."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from harness.envs.index import Release
from harness.envs.interpreters import Interpreter, PythonRequest
from harness.errors import ScenarioError
from harness.plan.cells import cells_of, plan_cell
from harness.scenario.applicability import CellSite, is_not_applicable
from harness.scenario.loader import load_scenario

WriteScenario = Callable[..., Path]

BASE = """
id = "applies"
title = "applicability"

[matrix]
mode = ["plain", "fancy"]

[server]
app = "reference:app"
command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}", "--{mode}"]

[[expect.http]]
id = "first"
path = "/"

[[expect.http]]
id = "second"
path = "/"
applies = { versions = ">=0.30", when = { mode = "fancy" }, help_lists = "--second" }

[[signature]]
id = "sig"
checks = ["first"]
fixed_in = "1.0"

"""

APPLIES = """
[applies]
versions = ">=0.18.0"
python = ">=3.9"

[applies.probe]
path = "/has-state"
body = "yes"

[[applies.variant]]
when = { mode = "fancy" }
versions = ">=0.45.0"
help_lists = ["--fancy", "fancy-choice"]
"""

PY311 = PythonRequest("3.11", Interpreter(Path("/opt/py/bin/python3"), Version("3.11.7")))


def site(version: str, mode: str, python: str = "3.11.7") -> CellSite:
    return CellSite("uvicorn", Version(version), Version(python), {"mode": mode})


def test_the_scenario_its_variants_and_its_checks(write_scenario: WriteScenario) -> None:
    scenario = load_scenario(write_scenario(BASE + APPLIES))
    rules = scenario.applicability
    assert rules.static_reason(site("0.17.0", "plain")) == (
        "not applicable: uvicorn 0.17.0 is outside >=0.18.0"
    )
    assert rules.static_reason(site("0.20.0", "plain", "3.8.18")) == (
        "not applicable: Python 3.8.18 is outside >=3.9"
    )
    assert rules.static_reason(site("0.20.0", "plain")) is None
    fancy = rules.static_reason(site("0.44.0", "fancy"))
    assert fancy == "not applicable: uvicorn 0.44.0 is outside >=0.45.0"
    assert rules.static_reason(site("0.45.0", "fancy")) is None
    assert rules.needs_help({"mode": "fancy"}) and rules.needs_help({"mode": "plain"})
    plain = load_scenario(write_scenario(BASE.replace(', help_lists = "--second"', ""), "p.toml"))
    assert not plain.applicability.needs_help({"mode": "plain"}), "nothing lists a text"
    assert rules.help_reason(site("0.45.0", "fancy"), "usage: --fancy") == (
        "not applicable: fancy-choice is not in uvicorn 0.45.0 --help"
    )
    assert rules.help_reason(site("0.45.0", "fancy"), "--fancy [fancy-choice]") is None
    assert rules.help_reason(site("0.45.0", "plain"), "") is None, "only the variant asks"
    (probe,) = rules.probes({"mode": "plain"})
    assert probe.path == "/has-state" and probe.body == "yes"
    assert rules.skipped_checks(site("0.29.0", "fancy"), None) == {
        "second": "not applicable: uvicorn 0.29.0 is outside >=0.30"
    }
    assert rules.skipped_checks(site("0.30.0", "plain"), "--second") == {
        "second": "not applicable: only with mode=fancy"
    }
    assert rules.skipped_checks(site("0.30.0", "fancy"), "usage") == {
        "second": "not applicable: --second is not in uvicorn 0.30.0 --help"
    }
    assert rules.skipped_checks(site("0.30.0", "fancy"), None) == {}, "unknown help: it applies"
    assert is_not_applicable("not applicable: x") and not is_not_applicable("skip: x")


def test_static_conditions_become_planned_skips(write_scenario: WriteScenario) -> None:
    scenario = load_scenario(write_scenario(BASE + APPLIES))
    base = plan_cell(scenario, Version("0.44.0"), Release(Version("0.44.0")), PY311, "linux")
    reasons = {dict(cell.axes)["mode"]: cell.skip_reason for cell in cells_of(base)}
    assert reasons == {
        "plain": None,
        "fancy": "not applicable: uvicorn 0.44.0 is outside >=0.45.0",
    }
    older = plan_cell(scenario, Version("0.17.0"), Release(Version("0.17.0")), PY311, "linux")
    assert all(cell.skip_reason and "0.17.0 is outside" in cell.skip_reason
               for cell in cells_of(older))  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        ("[applies]\nversions = 'not a range'\n", "applies.versions", "is not a version range"),
        ("[applies]\nhelp_lists = ['']\n", "applies.help_lists", "must be non-empty"),
        ("[applies]\nwhen = { mode = 'plain' }\n", "applies.when", "unknown field"),
        ("[[applies.variant]]\nversions = '>=1'\n", "applies.variant[0].when", "is required"),
        ("[[applies.variant]]\nwhen = { mode = 'plain' }\n", "applies.variant[0].when",
         "names no condition"),
        ("[[applies.variant]]\nwhen = { nope = 'x' }\nversions = '>=1'\n",
         "applies.variant[0].when.nope", "is not a matrix axis"),
        ("[[applies.variant]]\nwhen = { mode = 'x' }\nversions = '>=1'\n",
         "applies.variant[0].when.mode", "'x' is not a value of axis mode"),
        ("[applies.probe]\npath = 'no-slash'\n", "applies.probe.path", "must start with '/'"),
    ],
)  # fmt: skip
def test_bad_applies_tables_name_the_field(
    write_scenario: WriteScenario, extra: str, field: str, problem: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(BASE + extra))
    message = str(caught.value)
    assert f": {field}: " in message and problem in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        ("applies = { probe = { path = '/' } }", "a check cannot have a probe"),
        ("applies = {}", "names no condition"),
        ("applies = { when = { mode = 'other' } }", "'other' is not a value of axis mode"),
        ("applies = { colour = 'red' }", "unknown field"),
    ],
)
def test_bad_check_applies(write_scenario: WriteScenario, check: str, problem: str) -> None:
    text = BASE.replace('id = "first"\npath = "/"', f'id = "first"\npath = "/"\n{check}')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(text))
    assert problem in str(caught.value) and "expect.http[0].applies" in str(caught.value)
