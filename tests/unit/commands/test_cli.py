"""The CLI's own help: purpose, verbs, examples and exit codes; an example per verb."""

from __future__ import annotations

import pytest

from harness.cli import build_parser, main, program_name
from harness.commands import COMMANDS


def test_the_top_level_help_says_what_why_how_and_exit_codes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "which\nreleases are safe on your Python" in text or "releases are safe" in text
    for command in COMMANDS:
        assert f"    {command.NAME} " in text
    examples = text[text.index("examples:") : text.index("exit codes:")]
    assert examples.count("python -m harness ") == 3
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n  {code}" in text
    assert "uvicorn-harness" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_every_verb_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser("uvicorn-harness")
    for command in COMMANDS:
        assert command.EXAMPLES, command.NAME
        with pytest.raises(SystemExit):
            parser.parse_args([command.NAME, "--help"])
        text = capsys.readouterr().out
        assert "example" in text and f"uvicorn-harness {command.NAME}" in text, command.NAME


def test_the_console_script_names_itself() -> None:
    assert program_name("/venv/bin/uvicorn-harness") == "uvicorn-harness"
    assert program_name("/repo/harness/__main__.py") == "python -m harness"
