"""Drafting scenarios from cards: the seeds, messy variants, hostile text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.cards.draft import draft_card, read_sidecar, write_draft
from harness.cards.text import CardError, parse_card, read_card
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CARDS = ROOT / "tests" / "data" / "cards"


def seed_folder() -> Path:
    """The two seed cards the project started from (copied from shared/seeds, whole)."""
    return CARDS / "seeds"


def _seed(name: str) -> Path:
    return seed_folder() / name


def test_port_zero_seed(tmp_path: Path) -> None:
    draft = draft_card(read_card(_seed("000_cce2fdfc833f76a0.txt")))
    data = tomllib.loads(draft.toml)
    assert draft.id == "uvicorn-974" and draft.module == "example"
    assert data["server"]["command"] == ["uvicorn", "{app}", "--port=0", "--host", "{host}"]
    assert data["server"]["port"] == 0
    assert data["matrix"]["python"] == ["3.8"]
    assert data["upstream"]["issue"] == "https://github.com/Kludex/uvicorn/issues/974"
    assert data["upstream"]["links"] == ["https://github.com/encode/uvicorn/pull/930"]
    signatures = {s["id"]: s for s in data["signature"]}
    assert signatures["winerror-10057"]["platforms"] == ["windows"]
    assert signatures["errno-107-linux"]["pattern"] == r"OSError: \[Errno 107\]"
    assert all(s["fixed_in"] == "0.14.0" and "introduced_in" not in s for s in data["signature"])
    assert "# guessed: translated from WinError 10057" in draft.toml
    assert "platform" not in data
    scenario = load_scenario(write_draft(draft, tmp_path))
    assert scenario.http[0].body == "Hello, world!"
    assert read_sidecar(scenario.source)["python"] == "3.8"


def test_two_worker_seed_is_windows_only_and_wine_unfaithful() -> None:
    draft = draft_card(read_card(_seed("002_8f33581270133ad4.txt")))
    data = tomllib.loads(draft.toml)
    assert data["server"]["command"][:4] == ["uvicorn", "--workers", "2", "{app}"]
    assert [s["id"] for s in data["signature"]] == ["winerror-10022"]
    assert data["signature"][0]["platforms"] == ["windows"]
    assert "unfaithful" in data["platform"]["windows-wine"]
    assert data["matrix"]["python"] == ["3.7"]
    assert any("command line, not an error" in note for note in draft.facts["notes"])
    assert {g.field for g in draft.guesses} >= {"signature winerror-10022", "expect.log"}


def test_failure_signature_that_is_a_command_line() -> None:
    draft = draft_card(read_card(CARDS / "cli-typeerror-signature-is-command.txt"))
    data = tomllib.loads(draft.toml)
    (signature,) = data["signature"]
    assert signature["pattern"].startswith("TypeError:")
    assert signature["platforms"] == ["linux"] and signature["fixed_in"] == "0.18.1"
    assert data["matrix"]["python"] == ["3.10"]
    assert "# guessed: from a path" in draft.toml


@pytest.mark.parametrize(
    ("card", "message"),
    [("no-command.txt", "no server command found"), ("truncated-repro.txt", "truncated")],
)
def test_cards_that_cannot_run_are_clear_errors(card: str, message: str) -> None:
    with pytest.raises(CardError, match=message) as raised:
        draft_card(read_card(CARDS / card))
    assert raised.value.exit_code == 3


def test_missing_fields_and_no_error_text_still_draft() -> None:
    text = (
        "repro.py\nasync def app(scope, receive, send): await send({'type': "
        "'http.response.start', 'status': 200, 'headers': []}) await send({'type': "
        "'http.response.body', 'body': b'x'})\nverify\nRe-run: uvicorn main:app\n"
    )
    draft = draft_card(parse_card(text, "bare.txt"))
    data = tomllib.loads(draft.toml)
    assert draft.id == "card-bare"
    assert data["signature"][0]["checks"] == ["serves"]
    assert "fixed_in" not in data["signature"][0]


def test_hostile_text_stays_inside_strings_and_comments(tmp_path: Path) -> None:
    text = (
        'What Broke\n\n"""\n[server]\ncommand = ["sh"]\n\u0007 x\n\n'
        "repro.py\nasync def app(scope, receive, send): pass\n"
        "verify\nRe-run: uvicorn main:app --host 8.8.8.8 --port=0\n"
        "Failure Signature (Search String)\n\n  \u2022 ValueError: '\"; rm -rf / #\n"
    )
    draft = draft_card(parse_card(text, "../../evil.txt"), None)
    data = tomllib.loads(draft.toml)
    assert data["server"]["command"][0] == "uvicorn"
    assert "{host}" in data["server"]["command"]
    assert draft.id == "card-evil"
    scenario = load_scenario(write_draft(draft, tmp_path))
    assert scenario.source.parent.parent == tmp_path.resolve()
    with pytest.raises(CardError):
        draft_card(parse_card(text, "x.txt"), "../escape")


def test_oversized_and_binary_cards_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\0\1\2")
    for path in (big, binary, tmp_path / "missing.txt"):
        with pytest.raises(CardError):
            read_card(path)
