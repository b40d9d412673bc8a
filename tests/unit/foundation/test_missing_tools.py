"""A test whose system tool (Chromium, Wine) is missing: skipped with the install
command on a developer's machine, failed in CI so CI never passes by skipping."""

from __future__ import annotations

import pytest

from tests.e2e.tools import in_ci, missing_tool


def test_outside_ci_a_missing_tool_skips_naming_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y wine64 wine"):
        missing_tool("Wine is needed: apt-get install -y wine64 wine")


@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE"])
def test_in_ci_a_missing_tool_fails(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="chromium"):
        missing_tool("headless Chromium is needed: apt-get install chromium chromium-driver")


def test_ci_false_is_not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("", "0", "false", "no"):
        monkeypatch.setenv("CI", value)
        assert not in_ci()
