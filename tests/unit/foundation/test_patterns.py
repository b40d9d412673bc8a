"""Scenario regexes matched with a deadline (harness.patterns)."""

from __future__ import annotations

import re
import threading
import time

import pytest
import regex

from harness import patterns

SLOW = re.compile(r"^(a|a)+$", re.MULTILINE)
LINE = "a" * 40 + "!"


def test_matches_like_re() -> None:
    pattern = re.compile(r"port (?P<port>\d+)", re.IGNORECASE)
    match = patterns.search(pattern, "PORT 8000")
    assert match is not None and match.groupdict() == {"port": "8000"}
    assert [m.group(0) for m in patterns.finditer(re.compile("a"), "banana")] == ["a"] * 3
    assert patterns.count(re.compile(r"\bx\b", re.ASCII), "x x y x") == 3


def test_a_catastrophic_pattern_times_out_naming_itself() -> None:
    started = time.monotonic()
    with pytest.raises(patterns.PatternTimeout, match=r"the pattern /\^\(a\|a\)\+\$/"):
        patterns.search(SLOW, LINE)
    assert time.monotonic() - started < 10 * patterns.MATCH_TIMEOUT_S


def test_matching_lets_other_threads_run() -> None:
    """The GIL is released while matching: a ticking thread keeps ticking."""
    ticks = 0
    done = threading.Event()

    def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    with pytest.raises(patterns.PatternTimeout):
        patterns.search(SLOW, LINE)
    done.set()
    ticker.join()
    assert ticks > 20


def test_a_budget_is_spent_over_many_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = patterns.Budget(0.3)
    for _ in range(2):  # 0.25s, then the 0.05s left
        with pytest.raises(patterns.PatternTimeout):
            patterns.finditer(SLOW, LINE, budget=budget)

    def never(pattern: str, flags: int) -> None:
        raise AssertionError("a spent budget must not match at all")

    monkeypatch.setattr(patterns, "_compiled", never)
    with pytest.raises(patterns.PatternTimeout, match=r"within 0\.3s"):
        patterns.finditer(re.compile("a"), "a", budget=budget)


def test_check_turns_what_regex_refuses_into_a_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patterns.check(re.compile(r"(?P<port>\d+)"))

    def refuse(pattern: str, flags: int) -> None:
        raise regex.error("unsupported here")

    monkeypatch.setattr(patterns, "_compiled", refuse)
    with pytest.raises(ValueError, match="unsupported here"):
        patterns.check(re.compile("a"))
