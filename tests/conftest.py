"""Shared helpers: the repository's folders and a writer for scenario files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
FIXTURES = ROOT / "fixtures"

MINIMAL_SCENARIO = """
id = "demo"
title = "a demo scenario"

[server]
app = "hello:app"
command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]
ready = 'Uvicorn running on http://(?P<host>[^:]+):(?P<port>\\d+)'

[[expect.http]]
path = "/"
status = 200

[[signature]]
id = "demo-sig"
pattern = "Boom"
fixed_in = "0.14.0"
"""


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a scenario file (dedented) into a temporary scenarios folder."""

    def write(text: str, name: str = "demo.toml") -> Path:
        folder = tmp_path / "scenarios"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
