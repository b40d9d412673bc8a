"""Each signature matches its own captured failure and nothing else.

A fixture is captured server output, plus (for signatures that name checks or
the exit status) the checks that failed in that cell with their details and
timeouts, the checks that passed, and the exit code.  Within its scenario it must match
exactly the signature the manifest names; signatures of other scenarios must
not match it unless the manifest says so (`also`), as when two scenarios watch
the same symptom (a fallback to 127.0.0.1:8000).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from harness.scenario.loader import load_scenarios
from harness.scenario.signatures import CellEvidence, CheckEvidence
from tests.conftest import FIXTURES, SCENARIOS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MANIFEST: list[dict[str, Any]] = tomllib.loads((FIXTURES / "manifest.toml").read_text())["fixture"]
SIGNATURES = [
    (scenario.id, signature)
    for scenario in load_scenarios([SCENARIOS]).values()
    for signature in scenario.signatures
]


def fixture_evidence(entry: dict[str, Any]) -> CellEvidence:
    """The output, the checks (with their details and timeouts) and the exit code."""
    text = (FIXTURES / entry["file"]).read_text(encoding="utf-8")
    details = entry.get("check_details", {})
    timed_out = set(entry.get("timed_out", []))
    checks = {
        name: CheckEvidence(False, details.get(name, ""), name in timed_out)
        for name in entry.get("failed_checks", [])
    }
    checks.update({name: CheckEvidence(True) for name in entry.get("passed_checks", [])})
    return CellEvidence(text, checks, entry.get("exit_code"))


def test_every_fixture_file_is_in_the_manifest() -> None:
    listed = {entry["file"] for entry in MANIFEST}
    on_disk = {str(path.relative_to(FIXTURES)) for path in FIXTURES.rglob("*.txt")}
    assert on_disk == listed


def test_every_signature_has_a_positive_fixture() -> None:
    positive = {entry["signature"] for entry in MANIFEST}
    missing = [sig.id for _, sig in SIGNATURES if sig.id not in positive]
    assert not missing, f"signatures without a fixture: {missing}"


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda entry: entry["file"])
def test_fixture_matches_exactly_its_signature(entry: dict[str, Any]) -> None:
    evidence = fixture_evidence(entry)
    matched = {f"{scenario}/{sig.id}" for scenario, sig in SIGNATURES if sig.matches(evidence)}
    own = {name for name in matched if name.startswith(entry["scenario"] + "/")}
    expected = {f"{entry['scenario']}/{entry['signature']}"} if entry["signature"] else set()
    assert own == expected
    assert matched - own == set(entry.get("also", []))
