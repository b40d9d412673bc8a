"""Loopback-only hosts in commands and environments (harness.scenario.hosts)."""

from __future__ import annotations

import pytest

from harness.scenario.hosts import command_host_problem, env_host_problem, is_loopback_host


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "::1%lo"]
)
def test_loopback_spellings(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "[::]", "0", "127.1", "::ffff:0.0.0.0", "example.com", "", "10.0.0.1"]
)
def test_everything_else_is_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("command", "found"),
    [
        (["uvicorn", "app", "--host", "0.0.0.0"], (3, "0.0.0.0")),
        (["uvicorn", "app", "--host=::"], (2, "::")),
        (["uvicorn", "app", "-h", "example.com"], (3, "example.com")),
        (["gunicorn", "--bind", "0.0.0.0:80"], (2, "0.0.0.0:80")),
        (["hypercorn", "-b", "[::]:80"], (2, "[::]:80")),
        (["python", "launch.py", "run", "app", "host=0.0.0.0"], (4, "0.0.0.0")),
        (["python", "launch.py", "run", "app", "bind=0.0.0.0:1"], (4, "0.0.0.0:1")),
        (["uvicorn", "app", "--host", "{port}"], (3, "{port}")),
        (["uvicorn", "app", "--host", "{host}", "--port", "{port}"], None),
        (["python", "launch.py", "run", "app", "host={host}", "port={port}"], None),
        (["gunicorn", "--bind", "unix:/tmp/s"], None),
        (["gunicorn", "--bind", "{host}:{port}"], None),
    ],
)
def test_command_hosts(command: list[str], found: tuple[int, str] | None) -> None:
    assert command_host_problem(command) == found


@pytest.mark.parametrize(
    ("env", "bad"),
    [
        ({"UVICORN_HOST": "0.0.0.0"}, True),
        ({"HOST": "::"}, True),
        ({"APP_LISTEN_ADDR": "0.0.0.0:80"}, True),
        ({"GUNICORN_CMD_ARGS": "--bind=0.0.0.0:80 --workers 2"}, True),
        ({"SERVER_OPTS": "--host '0.0.0.0"}, True),  # unparseable: refused
        ({"UVICORN_HOST": "{host}"}, False),
        ({"UVICORN_HOST": "127.0.0.1"}, False),
        ({"UVICORN_WORKERS": "0.0.0.0"}, False),  # not an address variable
        ({"GHOST_MODE": "0.0.0.0"}, False),
    ],
)
def test_environment_hosts(env: dict[str, str], bad: bool) -> None:
    assert (env_host_problem(env) is not None) == bad
