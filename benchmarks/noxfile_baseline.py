"""What a user writes without the harness: one nox session per (release, Python).

Each session installs `uvicorn==VERSION` into its own environment and runs the
seed scenarios' checks (`cellcheck`, the same code the minimal driver uses)
one after the other, as nox runs sessions: one at a time.  The matrix comes
from the environment, so the benchmark can run this file unchanged:

    BENCH_VERSIONS=0.12.3,0.13.4 BENCH_PYTHONS=3.10,3.12 \\
        nox -f benchmarks/noxfile_baseline.py [--default-venv-backend uv] [-r]

Every check prints `CELL <scenario> <version> <python> pass|FAIL <reason>`; a
session with a failed check fails, as a user's would.  With the default
virtualenv backend the environment's pip is held below 24.1 first: newer pip
refuses the metadata of uvicorn 0.12.3 and 0.14.0 (uv accepts it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cellcheck import SCENARIOS, check  # noqa: E402

APP_DIR = HERE.parent / "server"
VERSIONS = os.environ.get("BENCH_VERSIONS", "0.12.3,0.13.4,0.14.0").split(",")
PYTHONS = os.environ.get("BENCH_PYTHONS", "3.12").split(",")
CHECKS = os.environ.get("BENCH_SCENARIOS", ",".join(sorted(SCENARIOS))).split(",")


@nox.session(python=PYTHONS)
@nox.parametrize("version", VERSIONS)
def cells(session: nox.Session, version: str) -> None:
    if session.venv_backend == "virtualenv":
        session.install("pip<24.1")
    session.install(f"uvicorn=={version}")
    python = str(Path(session.bin) / "python")
    failed = []
    for scenario in CHECKS:
        passed, reason = check(python, scenario, APP_DIR)
        print(f"CELL {scenario} {version} {session.python} {'pass' if passed else 'FAIL'} {reason}")
        if not passed:
            failed.append(scenario)
    if failed:
        session.error(f"failed: {', '.join(failed)}")
