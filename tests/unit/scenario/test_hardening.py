"""Scenario files are data: loopback only, no shell, an environment allow-list,
bounded limits, and one clear line naming the field for anything else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.runner.endpoints import Endpoint
from harness.runner.launch import plan_launch, server_env
from harness.runner.ports import PortAllocator
from harness.scenario.loader import load_scenario
from tests.conftest import MINIMAL_SCENARIO

WriteScenario = Callable[..., Path]


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('"--host", "{host}"', '"--host=0.0.0.0"', "server.command[2]", "loopback"),
        ('"--host", "{host}"', '"--host", "192.168.1.10"', "server.command[3]", "loopback"),
        ('"--host", "{host}"', '"--host", "{host}x"', "server.command[3]", "literal or exactly"),
        ("[server]", '[server]\nhost = "0.0.0.0"', "server.host", "loopback"),
        ("[server]", '[server]\nhost = "::"', "server.host", "loopback"),
        ("[server]", "[server]\nport = 80", "server.port", "from 1024 to 65535"),
        ("[server]", "[server]\nport = 70000", "server.port", "at most 65535"),
        ("[server]", '[server]\nenv = { LD_PRELOAD = "/x.so" }', "server.env", "may not be set"),
        ("[server]", '[server]\nenv = { PYTHONPATH = "/x" }', "server.env", "may not be set"),
        ("[server]", '[server]\nenv = { UVICORN_HARNESS_RUN = "x" }', "server.env",
         "may not be set"),
        ("[server]", '[server]\nenv = { A = "a\\u0000b" }', "server.env", "NUL"),
        ('"{port}"]', '"{port:d}"]', "server.command[5]", "no format or conversion"),
        ('"{port}"]', '"{port!r}"]', "server.command[5]", "no format or conversion"),
        ("[[expect.http]]", "[limits]\nready_s = nan\n[[expect.http]]", "limits.ready_s",
         "finite"),
        ("[[expect.http]]", "[limits]\nprobe_s = inf\n[[expect.http]]", "limits.probe_s",
         "finite"),
        ("[[expect.http]]", "[limits]\nlog_s = 1e9\n[[expect.http]]", "limits.log_s",
         "at most 3600"),
        ("status = 200", "status = 700", "expect.http[0].status", "at most 599"),
        ('path = "/"', 'path = "/a b"', "expect.http[0].path", "spaces"),
        ('path = "/"', 'path = "/"\nmethod = "GET\\r\\nX: y"', "expect.http[0].method",
         "not a valid HTTP method"),
        ('path = "/"', 'path = "/"\nrequest_headers = { "bad name" = "x" }',
         "expect.http[0].request_headers", "header name"),
        ('path = "/"', 'path = "/"\nheaders = { x = "caf\\u00e9" }', "expect.http[0].headers",
         "printable ASCII"),
        ('fixed_in = "0.14.0"', 'fixed_in = "0.14.0"\nflaky = "yes"', "signature[0].flaky",
         "true or false"),
        ('id = "demo"', 'id = "demo"\n"odd\\nkey" = 1', '"odd\\nkey"', "unknown field"),
    ],
)  # fmt: skip
def test_hostile_scenarios_are_refused_by_field(
    write_scenario: WriteScenario, old: str, new: str, field: str, problem: str
) -> None:
    assert old in MINIMAL_SCENARIO
    path = write_scenario(MINIMAL_SCENARIO.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert f"{path}: {field}: " in message
    assert problem in message
    assert "\n" not in message


def test_fixed_port_and_flaky_signature_load(write_scenario: WriteScenario) -> None:
    text = MINIMAL_SCENARIO.replace("[server]", "[server]\nport = 18080", 1)
    text = text.replace('fixed_in = "0.14.0"', 'fixed_in = "0.14.0"\nflaky = true', 1)
    scenario = load_scenario(write_scenario(text))
    assert scenario.server.fixed_port == 18080
    assert scenario.signatures[0].flaky is True


def test_launch_is_an_argument_list_with_an_allow_listed_environment(
    write_scenario: WriteScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("LD_PRELOAD", "/evil.so")
    text = MINIMAL_SCENARIO.replace("[server]", '[server]\nenv = { GREETING = "hi; rm -rf /" }')
    scenario = load_scenario(write_scenario(text))
    python = tmp_path / "venv" / "bin" / "python"
    endpoint = Endpoint.open(scenario.server, PortAllocator(), tmp_path)
    launch = plan_launch(scenario, python, endpoint, tmp_path)
    assert launch.argv[:3] == [str(python), "-m", "uvicorn"]
    assert launch.argv[3:7] == ["hello:app", "--host", "127.0.0.1", "--port"]
    env = server_env(scenario, python)
    assert "AWS_SECRET_ACCESS_KEY" not in env and "LD_PRELOAD" not in env
    assert env["GREETING"] == "hi; rm -rf /"  # data, never interpreted by a shell
