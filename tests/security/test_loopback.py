"""Item 2: a scenario cannot make its server listen beyond loopback, not even
for a fraction of a second after it started."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from tests.security.conftest import HostileRun, scenario_text

BODY = '\n[[expect.http]]\npath = "/"\nstatus = 200\n'
LAUNCH = '["python", "{app_dir}/launch.py", "run", "{app}", "HOST", "port={port}"]'


@pytest.fixture
def list_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], tuple[int, str]]:
    """`list` a folder holding one scenario: (exit code, its one error line or the listing)."""

    def run(text: str) -> tuple[int, str]:
        folder = tmp_path / "scenarios"
        folder.mkdir(exist_ok=True)
        (folder / "s.toml").write_text(text, encoding="utf-8")
        code = main(["list", "--scenarios-dir", str(folder)])
        captured = capsys.readouterr()
        if code:
            assert len(captured.err.strip().splitlines()) == 1, captured.err
        return code, captured.err if code else captured.out

    return run


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ('UVICORN_HOST = "0.0.0.0"', "server.env.UVICORN_HOST"),
        ('UVICORN_HOST = "::"', "server.env.UVICORN_HOST"),
        ('UVICORN_HOST = "[::]"', "server.env.UVICORN_HOST"),
        ('UVICORN_HOST = "0"', "server.env.UVICORN_HOST"),
        ('UVICORN_HOST = "example.com"', "server.env.UVICORN_HOST"),
        ('UVICORN_HOST = "::ffff:0.0.0.0"', "server.env.UVICORN_HOST"),
        ('HYPERCORN_BIND = "0.0.0.0:8000"', "server.env.HYPERCORN_BIND"),
        ('GUNICORN_CMD_ARGS = "--bind 0.0.0.0:8000"', "server.env.GUNICORN_CMD_ARGS"),
    ],
)
def test_a_host_in_the_environment_is_refused(
    list_scenario: Callable[[str], tuple[int, str]], env: str, field: str
) -> None:
    code, line = list_scenario(scenario_text("s", "hello:app", f"env = {{{env}}}\n" + BODY))
    assert code == 3
    assert f"{field}: sets where the server listens" in line


@pytest.mark.parametrize(
    ("argument", "index"),
    [
        ('"host=0.0.0.0"', 4),
        ('"host=::"', 4),
        ('"--host=0.0.0.0"', 4),
        ('"bind=0.0.0.0:80"', 4),
        ('"host=127.0.0.1.nip.io"', 4),
    ],
)
def test_a_host_given_to_the_launcher_is_refused(
    list_scenario: Callable[[str], tuple[int, str]], argument: str, index: int
) -> None:
    command = LAUNCH.replace('"HOST"', argument)
    code, line = list_scenario(scenario_text("s", "reference:app", BODY, command=command))
    assert code == 3
    assert f"server.command[{index}]: servers may only listen on loopback" in line


@pytest.mark.parametrize(
    "host",
    ['"--host", "::1"', '"--host", "[::1]"', '"--host", "::ffff:127.0.0.1"', '"-h", "localhost"'],
)
def test_loopback_in_any_spelling_is_accepted(
    list_scenario: Callable[[str], tuple[int, str]], host: str
) -> None:
    command = f'["uvicorn", "{{app}}", {host}, "--port", "{{port}}"]'
    code, _ = list_scenario(scenario_text("s", "hello:app", BODY, command=command))
    assert code == 0


def test_loopback_in_the_environment_is_accepted(
    list_scenario: Callable[[str], tuple[int, str]],
) -> None:
    text = scenario_text("s", "hello:app", 'env = {UVICORN_HOST = "{host}"}\n' + BODY)
    assert list_scenario(text)[0] == 0


@pytest.mark.e2e
def test_a_server_that_binds_everywhere_itself_is_stopped_at_once(hostile_run: HostileRun) -> None:
    result = hostile_run.cell("public-bind")
    assert result["outcome"] == "error", result
    assert "listened beyond loopback on 0.0.0.0:" in result["reason"]
    up, last = (float(part) for part in hostile_run.heartbeat.read_text().split())
    # The listener's own stamps: it lived from `up` until its last stamp (5 ms apart).
    assert last - up < 0.5, f"the public listener lived {last - up:.3f}s"
