"""Item 10: no control character from a server or a file reaches the terminal,
and regexes print literally (rich markup used to eat the backslash of `\\[`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from tests.conftest import ROOT
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
    [r"^\[INFO\] Uvicorn running on (?P<port>\d+)", r"\[0-9]+", r"(?P<p>\d+)\[", r"\\[bold]x"],
)
def test_a_regex_in_a_reason_prints_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    """Printed by the terminal report (the reason of an unexpected cell)."""
    reason = f"ready: no line matching /{pattern}/ within 20s"
    path = write_json(tmp_path / "r.json", results([cell(reason=reason)]))
    assert main(["report", str(path)]) == 1
    out = capsys.readouterr().out
    assert reason in " ".join(out.split()), out


def test_no_module_uses_richs_lossy_escape() -> None:
    """`rich.markup.escape` drops the backslash of `\\[`; every module uses
    `harness.textsafety.escape` instead (this keeps merged code from regressing)."""
    users = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "harness").rglob("*.py")
        if "rich.markup import escape" in path.read_text(encoding="utf-8")
    ]
    assert users == []
