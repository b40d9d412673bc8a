"""System tools some end-to-end tests need (Chromium, Wine): skipped without, except in CI.

On a developer's machine a missing tool skips its tests with the command that
installs it; in CI (`CI=true`, which `.ci/run` sets) it fails them, so CI never
goes green by skipping what it was meant to run.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(message: str) -> NoReturn:
    """Fail (in CI) or skip (elsewhere) with `message`, which names the install command."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
