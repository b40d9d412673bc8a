"""Item 9: no secret from a file a requirements file includes reaches any output."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.analyses.userdeps import DependencyFileError, read_requirements
from harness.cli import main
from tests.security.conftest import harness

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def _gate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["gate", "--candidate", "uvicorn==0.30.6", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("include", ["/proc/self/environ", "/etc/shadow", "../outside.txt"])
def test_an_include_outside_the_project_is_refused_unread(
    project: Path, capsys: pytest.CaptureFixture[str], include: str
) -> None:
    (project.parent / "outside.txt").write_text(f"TOKEN={SECRET}\n")
    requirements = project / "requirements.txt"
    requirements.write_text(f"-r {include}\n")
    code, output = _gate(capsys, "--requirements", str(requirements))
    assert code == 3
    assert "an included file must be inside" in output
    assert SECRET not in output and "AWS_SECRET" not in output


def test_a_secret_line_in_the_project_shows_only_a_short_prefix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "env.txt").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    requirements = project / "requirements.txt"
    requirements.write_text("-r env.txt\n")
    code, output = _gate(capsys, "--requirements", str(requirements))
    assert code == 3
    assert "env.txt:1: not a requirement (it starts 'AWS_SECRET_A…')" in output
    assert SECRET not in output and "ACCESS_KEY" not in output


def test_the_environment_given_on_the_command_line_is_not_echoed() -> None:
    """Even a file the user names itself: its lines are not requirements, and
    nothing of them is printed beyond a name-like prefix.  (A new process: its
    /proc/self/environ holds the secret it was started with.)"""
    cli = harness(
        ["gate", "--candidate", "uvicorn==0.30.6", "--requirements", "/proc/self/environ"],
        env={"AWS_SECRET_ACCESS_KEY": SECRET},  # the file is one line: every variable
    )
    assert cli.code == 3, cli.output
    assert SECRET not in cli.output and "not a requirement" in cli.stderr


@pytest.mark.parametrize(
    "line",
    [
        f"git+https://user:{SECRET}@example.com/repo.git#egg=x",
        f"-e git+https://deploy:{SECRET}@example.com/repo.git#egg=x",
        f"--extra-index-url=https://user:{SECRET}@example.com/simple x",
        f"{SECRET}",
        f"password={SECRET}",
    ],
)
def test_credentials_in_requirement_lines_are_never_shown(project: Path, line: str) -> None:
    """Whatever the gate would print of the file: its notes, or its error."""
    requirements = project / "requirements.txt"
    requirements.write_text(f"uvicorn==0.30.5\n{line}\n")
    try:
        shown = "\n".join(read_requirements(requirements).notes)
    except DependencyFileError as exc:
        shown = str(exc)
    assert SECRET not in shown and SECRET[:12] not in shown


def test_pyproject_entries_are_not_echoed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "x"\ndependencies = ["TOKEN={SECRET}"]\n')
    code, output = _gate(capsys, "--pyproject", str(pyproject))
    assert code == 3
    assert "project.dependencies[0]: not a requirement (it starts 'TOKEN…')" in output
    assert SECRET not in output
