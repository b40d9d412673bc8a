"""The server's command line, found in prompts and transcripts."""

from __future__ import annotations

import pytest

from harness.cards.command import find_invocation, parse_command
from harness.cards.text import CardError


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        (
            "venv/linux-3.8/bin/uvicorn example:app --port=0",
            "venv/linux-3.8/bin/uvicorn example:app --port=0",
        ),
        ("(venv) C:\\lab>uvicorn --workers 2 server:app", "uvicorn --workers 2 server:app"),
        (
            "[12:03:58] D:\\sand \u03bb venv\\Scripts\\uvicorn example:app --port=0 INFO: Started",
            "venv\\Scripts\\uvicorn example:app --port=0",
        ),
        ("$ python3.9 -m uvicorn main:app --reload", "python3.9 -m uvicorn main:app --reload"),
        ("OSError: [WinError 10057] A request", None),
        ("pip install uvicorn", None),
    ],
)
def test_find_invocation(text: str, typed: str | None) -> None:
    assert find_invocation(text) == typed


def test_port_zero_is_kept_and_host_added() -> None:
    command = parse_command("venv/bin/uvicorn example:app --port=0")
    assert command.command == ("uvicorn", "{app}", "--port=0", "--host", "{host}")
    assert command.port == 0 and command.app == "example:app"


def test_public_host_and_fixed_port_are_replaced_and_said() -> None:
    command = parse_command("uvicorn main:app --host 0.0.0.0 --port 8000 --workers 3 --env-file x")
    assert command.command == (
        "uvicorn",
        "{app}",
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--workers",
        "3",
    )
    assert command.workers == 3 and command.port is None
    assert any("0.0.0.0" in note for note in command.notes)
    assert any("--env-file" in note for note in command.notes)


def test_braces_are_not_placeholders() -> None:
    assert "--root-path={{x}}" in parse_command("uvicorn main:app --root-path={x}").command


def test_no_app_is_an_error() -> None:
    with pytest.raises(CardError, match="names no app"):
        parse_command("uvicorn --reload")
