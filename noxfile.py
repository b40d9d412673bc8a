"""Sessions: regress (default), bisect, report, gate, tests, lint, bench.

`nox -s regress -- ARGS` passes ARGS to `python -m harness run`; it writes
reports/results.json and reports/index.html unless ARGS name other paths.
`nox -s bisect -- SCENARIO ARGS` passes them to `python -m harness bisect`.
`nox -s report -- RESULTS.json [MORE.json ...] [--html/--junit/--markdown PATH]`
merges results files into reports.  `nox -s gate -- --candidate uvicorn==X
--requirements requirements.txt` gates an upgrade (paths relative to where
nox was started, so it can run from your project).  The harness's
exit code (0 clean, 1 regression, 2 infrastructure, 3 usage, 130 interrupted)
is the session's exit code, so CI can tell a regression from a broken index.
`nox -s bench -- ARGS` passes ARGS to benchmarks/bench.py (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["regress"]
nox.options.reuse_existing_virtualenvs = True


def _harness(session: nox.Session, command: str, *args: str, cwd: Path = ROOT) -> None:
    """Run the harness CLI in the session's venv and exit with its exact code.

    `session.run` collapses every failure to exit 1; a CI gate needs to tell a
    regression (1) from an infrastructure error (2) or a usage error (3).
    From another folder (`cwd`), the checkout stays first on the import path,
    so its built-in scenarios are found.
    """
    python = Path(session.bin) / ("python.exe" if sys.platform == "win32" else "python")
    argv = [str(python), "-m", "harness", command, *args]
    session.log(" ".join(argv[1:]))
    env = dict(os.environ)
    if cwd != ROOT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    code = subprocess.call(argv, cwd=cwd, env=env)
    if code != 0:
        session.log(f"harness exited with {code}")
        raise SystemExit(code)


def with_defaults(args: Sequence[str], defaults: Mapping[str, Path]) -> list[str]:
    """`args` plus `--OPTION DEFAULT` for each default option `args` does not give.

    The options are parsed the way the harness parses them (`--json PATH` and
    `--json=PATH` alike, no abbreviations, nothing after `--`), so a path the
    user gave is never overridden by a default appended after it.
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for option in defaults:
        parser.add_argument(option)
    try:
        given, _ = parser.parse_known_args(list(args))
    except SystemExit:  # `--json` without a value: let the harness say so
        return list(args)
    extra = [
        item
        for option, default in defaults.items()
        if getattr(given, option.lstrip("-").replace("-", "_")) is None
        for item in (option, str(default))
    ]
    return list(args) + extra


@nox.session
def regress(session: nox.Session) -> None:
    """The main job: built-in scenarios x default versions x found interpreters."""
    session.install(".")
    reports = ROOT / "reports"
    defaults = {"--json": reports / "results.json", "--html": reports / "index.html"}
    _harness(session, "run", *with_defaults(session.posargs, defaults))


@nox.session
def report(session: nox.Session) -> None:
    """Merge results files into HTML, JUnit and Markdown reports.

    Without arguments: reports/results.json -> reports/index.html, junit.xml, summary.md.
    """
    session.install(".")
    reports = ROOT / "reports"
    args = list(session.posargs) or [
        str(reports / "results.json"),
        *("--html", str(reports / "index.html")),
        *("--junit", str(reports / "junit.xml")),
        *("--markdown", str(reports / "summary.md")),
    ]
    _harness(session, "report", *args)


@nox.session
def bisect(session: nox.Session) -> None:
    """Where a scenario's failure starts and stops: `nox -s bisect -- SCENARIO [ARGS]`."""
    if not session.posargs:
        session.error("usage: nox -s bisect -- SCENARIO [--python X.Y] [--versions RANGE] ...")
    session.install(".")
    args = with_defaults(session.posargs, {"--json": ROOT / "reports" / "bisect.json"})
    _harness(session, "bisect", *args)


@nox.session
def gate(session: nox.Session) -> None:
    """Gate an upgrade: `-- --candidate uvicorn==X --requirements requirements.txt`.

    Exit 0 the candidate passes every scenario, 1 a cell fails (known bugs too),
    2 it conflicts with your pins or the index is unreachable, 3 bad usage.
    """
    session.install(".")
    _harness(session, "gate", *session.posargs, cwd=Path(session.invoked_from))


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests and end-to-end tests against real uvicorn releases."""
    session.install(".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The matrix five ways (harness cold/warm, nox + virtualenv, nox + uv, a minimal
    driver) with medians and ratios, then planning and reporting at 2,400 cells, then
    the reports of 20,000 cells (the `report` command, and the page in Chromium).
    Takes a while (the nox + virtualenv runs alone take minutes); prints figures."""
    # Installed with its bytecode: a user's PYTHONDONTWRITEBYTECODE must not make
    # the tools recompile themselves on every start of every way.
    session.install(".", "nox", "selenium", env={"UV_COMPILE_BYTECODE": "1"})
    session.run("python", "benchmarks/bench.py", *session.posargs)
    session.run("python", "benchmarks/scale.py")
    session.run("python", "benchmarks/report_scale.py", "--browser")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check), mypy strict, vulture (dead code), and actionlint on the
    CI workflows."""
    session.install(".[lint]", "nox")
    session.run("ruff", "check", "harness", "tests", "benchmarks", "tools", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "harness", "tests", "benchmarks", "tools", "noxfile.py"
    )
    session.run("mypy")
    # 60 is vulture's lowest confidence, the one it gives an unused function or method.
    session.run("vulture", "harness", "tools/vulture_whitelist.py", "--min-confidence", "60")
    session.run("actionlint", *WORKFLOWS)


#: GitHub Actions workflows: the repository's own and docs/gate.md's example.
WORKFLOWS = (".github/workflows/regress.yml", "docs/examples/gate-on-bump.yml")
