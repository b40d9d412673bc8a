"""Item 10: no control character from a server or a file reaches the terminal,
and regexes print literally (rich markup used to eat the backslash of `\\[`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from harness.reports.console import SafeConsole
from harness.textsafety import escape
from tests.security.conftest import (
    CONTROL,
    HostileRun,
    cell,
    harness,
    results,
    write_json,
)

TITLE = "\x1b]0;PWNED-TITLE\x1b\\"
SPOOF = "\x1b[2K\x1b[1A all cells passed\x07\r\x9b31m"


def _control_in(text: str) -> list[str]:
    return sorted({repr(char) for char in text if char in CONTROL and char not in "\n"})


def test_escapes_in_a_results_file_never_reach_the_terminal(tmp_path: Path) -> None:
    hostile = cell(reason=f"ready: {TITLE}{SPOOF}", fingerprint=f"RuntimeError: {TITLE}")
    path = write_json(
        tmp_path / "r.json",
        results([hostile], notes=[f"note {SPOOF}"], scenarios={"hostile": {"title": TITLE}}),
    )
    cli = harness(["report", str(path)])
    assert cli.code == 1, cli.output
    assert "PWNED-TITLE" in cli.stdout  # shown, as text
    assert _control_in(cli.output) == []
    assert "\\x1b]0;PWNED-TITLE" in cli.stdout


@pytest.mark.e2e
def test_an_apps_exception_message_cannot_drive_the_terminal(hostile_run: HostileRun) -> None:
    result = hostile_run.cell("escapes")
    assert result["outcome"] == "new-failure"
    assert "PWNED-TITLE" in result["fingerprint"]  # the evidence keeps it, as data
    assert "PWNED-TITLE" in hostile_run.cli.stdout
    assert _control_in(hostile_run.cli.output) == []


@pytest.mark.parametrize(
    "pattern",
    [r"\[0-9]+", r"^\[INFO\] started", r"(?P<port>\d+)\[", r"\\[bold]x", r"a\\\[b]", "[red]x[/]"],
)
def test_regexes_print_literally(pattern: str) -> None:
    out = io.StringIO()
    console = SafeConsole(file=out, width=300, highlight=False)
    console.print(f"[bold]pattern[/] /{escape(pattern)}/ [dim]end[/]")
    assert out.getvalue() == f"pattern /{pattern}/ end\n"


def test_a_regex_in_a_reason_prints_literally(tmp_path: Path) -> None:
    reason = r"ready: no line matching /^\[INFO\] Uvicorn running on (?P<port>\d+)/ within 20s"
    path = write_json(tmp_path / "r.json", results([cell(reason=reason)]))
    cli = harness(["report", str(path)])
    assert reason in " ".join(cli.stdout.split()), cli.stdout


def test_no_module_uses_richs_lossy_escape() -> None:
    """`rich.markup.escape` drops the backslash of `\\[`; every module uses
    `harness.textsafety.escape` instead (this keeps merged code from regressing)."""
    from tests.conftest import ROOT

    users = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "harness").rglob("*.py")
        if "rich.markup import escape" in path.read_text(encoding="utf-8")
    ]
    assert users == []


def test_the_console_shows_control_characters_as_text() -> None:
    out = io.StringIO()
    SafeConsole(file=out, width=300, highlight=False).print(
        f"[red]x[/] {TITLE}{SPOOF}", markup=True
    )
    text = out.getvalue()
    assert _control_in(text) == []
    assert "\\x1b]0;PWNED-TITLE\\x1b\\" in text and "\\x9b" in text  # rich drops the bell
    json.dumps(text)  # plain text
