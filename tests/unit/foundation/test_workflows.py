"""CI workflows: actionlint passes on them and fails on a broken copy; docs/gate.md quotes one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

REGRESS = ROOT / ".github" / "workflows" / "regress.yml"
GATE_EXAMPLE = ROOT / "docs" / "examples" / "gate-on-bump.yml"


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.fail("actionlint is not installed (pip install '.[test]' brings it)")
    return subprocess.run(
        [binary, *map(str, paths)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_the_gate_doc_shows_the_gate_example_verbatim() -> None:
    doc = (ROOT / "docs" / "gate.md").read_text(encoding="utf-8")
    assert f"```yaml\n{GATE_EXAMPLE.read_text(encoding='utf-8')}```" in doc


def test_actionlint_passes_on_the_workflows() -> None:
    completed = actionlint(REGRESS, GATE_EXAMPLE)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    text = REGRESS.read_text(encoding="utf-8")
    broken = text.replace("${{ matrix.shard }}", "${{ matrix.shards }}", 1).replace(
        'echo "shards=$shards" >> "$GITHUB_OUTPUT"', "echo shards=$shards >> $GITHUB_OUTPUT"
    )
    assert broken != text
    path = tmp_path / ".github" / "workflows" / "regress.yml"
    path.parent.mkdir(parents=True)
    path.write_text(broken, encoding="utf-8")
    completed = actionlint(path)
    assert completed.returncode != 0
    assert 'property "shards" is not defined' in completed.stdout
    if shutil.which("shellcheck"):
        assert "SC2086" in completed.stdout  # unquoted variables in a run: script
