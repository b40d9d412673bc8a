"""Fix cards end to end: import, verify against real releases (Linux and Wine), and
reproduce a cell with the standalone script in a clean folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.envs.interpreters import InterpreterFinder
from tests.conftest import ROOT
from tests.e2e.conftest import processes_using
from tests.unit.cards.test_draft import CARDS, seed_folder

pytestmark = pytest.mark.e2e


def _harness(
    args: list[str], cache: Path, timeout: float = 1500
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "CI": "true", "COLUMNS": "120", "UVICORN_HARNESS_CACHE": str(cache)},
    )


def _card(out: Path, card_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / f"{card_id}.json").read_text())
    return data


def _run(card: dict[str, Any], platform: str) -> dict[str, Any]:
    run: dict[str, Any] = next(r for r in card["card"]["platforms"] if r["platform"] == platform)
    return run


def test_port_zero_card_reproduced_on_linux_and_under_wine(cache_dir: Path, tmp_path: Path) -> None:
    if shutil.which("wine") is None:
        pytest.fail("Wine is not installed (apt-get install -y wine64 wine): .ci/run installs it")
    out = tmp_path / "cards"
    done = _harness(
        ["card", "verify", str(seed_folder() / "000_cce2fdfc833f76a0.txt"), "--out", str(out)],
        cache_dir,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    card = _card(out, "uvicorn-974")
    summary = card["card"]
    assert summary["reproduced"] == "Yes" and summary["verdict"] == "refined"
    for platform, line in (("linux", "[Errno 107]"), ("windows-wine", "[WinError 10057]")):
        run = _run(card, platform)
        assert run["python"] == "3.8" and run["role"] == "search"
        assert run["edges"] == {
            "last_good": "0.13.3",
            "first_bad": "0.13.4",
            "last_bad": "0.13.4",
            "first_good": "0.14.0",
        }
        assert line in run["matched"][0]["line"]
    assert {c["verdict"] for c in summary["claims"]} == {"refined"}
    markdown = (out / "uvicorn-974.md").read_text()
    assert "Reproduced locally: **Yes**" in markdown
    assert "introduced in 0.13.4" in markdown
    assert (out / "uvicorn-974" / "repro" / "uvicorn-974_0.13.4_3.8_windows-wine.ps1").is_file()

    # The standalone script reproduces the Linux cells on its own, in a clean folder.
    python = InterpreterFinder().resolve("3.8").interpreter
    assert python is not None
    for cell, code, said in (
        ("uvicorn-974:0.13.4:3.8:linux", 1, "MATCHED: OSError: [Errno 107]"),
        ("uvicorn-974:0.14.0:3.8:linux", 0, "every check held"),
    ):
        folder = tmp_path / cell.replace(":", "_")
        folder.mkdir()
        written = _harness(
            ["repro", str(out / "uvicorn-974.json"), cell, "--write", str(folder / "repro.sh")],
            cache_dir,
        )
        assert written.returncode == 0, written.stderr
        ran = subprocess.run(
            ["sh", "repro.sh"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHON": str(python.path)},
        )
        assert ran.returncode == code, ran.stdout + ran.stderr
        assert said in ran.stdout
    assert not processes_using(tmp_path)


def test_two_worker_card_is_unverifiable_here(cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cards"
    done = _harness(
        ["card", "verify", str(seed_folder() / "002_8f33581270133ad4.txt"), "--out", str(out)],
        cache_dir,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    card = _card(out, "uvicorn-514")
    assert card["card"]["reproduced"] == "Unverifiable here"
    assert card["card"]["verdict"] == "unverifiable here"
    linux = _run(card, "linux")
    assert linux["role"] == "control" and set(linux["outcomes"].values()) == {"pass"}
    wine = _run(card, "windows-wine")
    assert wine["role"] == "unfaithful" and wine["python"] == "3.8"
    assert "3.7 is not available on windows-wine" in wine["python_note"]
    assert set(wine["outcomes"].values()) == {"unfaithful"}


def test_synthetic_card_matches_the_real_history(cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cards"
    done = _harness(
        [
            "card",
            "verify",
            str(CARDS / "cli-typeerror-signature-is-command.txt"),
            "--out",
            str(out),
            "--platform",
            "linux",
            "--versions",
            ">=0.15,<0.20",
        ],
        cache_dir,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = _run(_card(out, "uvicorn-1500"), "linux")
    assert run["edges"]["first_bad"] == "0.18.0" and run["edges"]["first_good"] == "0.18.1"
    assert run["edges"]["last_good"] == "0.17.6"


@pytest.mark.parametrize(
    ("card", "missing"),
    [("no-command.txt", "no server command"), ("truncated-repro.txt", "truncated")],
)
def test_unrunnable_cards_exit_3(cache_dir: Path, card: str, missing: str) -> None:
    done = _harness(["card", "import", str(CARDS / card)], cache_dir, timeout=60)
    assert done.returncode == 3 and missing in done.stderr
    assert "Traceback" not in done.stderr
