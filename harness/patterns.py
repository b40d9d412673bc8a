"""Regexes from scenario files, matched with a deadline.

A scenario's patterns (signatures, ready lines, log checks, raw checks) are
written by someone else and matched against output a server chose.  Python's
`re` can backtrack for minutes on a pattern like `^(a|a)+$` and holds the GIL
while it does, so not even Ctrl-C gets through.  Every match of a scenario's
pattern goes through here instead: the `regex` package runs the same pattern
(its VERSION0 is `re`'s syntax and semantics), releases the GIL while it
matches, and stops at a timeout.  A pattern that runs out of time raises
`PatternTimeout`, and the cell ends with the outcome `error` naming it.

Patterns stay `re.Pattern` values in the scenario model (what the loader
validated); they are compiled for `regex` once, here.
"""

from __future__ import annotations

import functools
import re
import threading
import time

import regex

from harness.errors import InfrastructureError

#: The longest one match of a scenario's pattern may take.  Real patterns take
#: microseconds to milliseconds on the bounded text they see (a line, an
#: output tail); a worker stuck this long still lets Ctrl-C end the run at once.
MATCH_TIMEOUT_S = 0.25
#: What one pattern may spend on all the lines of one server run's output.
WATCH_BUDGET_S = 2.0

_FLAGS = (
    (re.IGNORECASE, regex.IGNORECASE),
    (re.MULTILINE, regex.MULTILINE),
    (re.DOTALL, regex.DOTALL),
    (re.VERBOSE, regex.VERBOSE),
    (re.ASCII, regex.ASCII),
)


class PatternTimeout(InfrastructureError):
    """A scenario's pattern did not finish matching within its deadline."""

    def __init__(self, pattern: str, seconds: float, what: str) -> None:
        shown = pattern if len(pattern) <= 80 else pattern[:79] + "…"
        super().__init__(
            f"the pattern /{shown}/ did not finish matching {what} within {seconds:g}s "
            "(catastrophic backtracking?): rewrite it"
        )


class Budget:
    """Seconds a pattern may still spend over a series of matches (one per line)."""

    def __init__(self, seconds: float = WATCH_BUDGET_S) -> None:
        self.total = seconds
        self._left = seconds
        self._lock = threading.Lock()

    def timeout(self) -> float:
        """The deadline of the next match: what is left, at most `MATCH_TIMEOUT_S`."""
        with self._lock:
            return max(0.0, min(MATCH_TIMEOUT_S, self._left))

    def spend(self, seconds: float) -> None:
        with self._lock:
            self._left -= seconds


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str, flags: int) -> regex.Pattern[str]:
    converted = regex.VERSION0
    for re_flag, regex_flag in _FLAGS:
        if flags & re_flag:
            converted |= regex_flag
    return regex.compile(pattern, converted)


def check(pattern: re.Pattern[str]) -> None:
    """Raise `ValueError` (with `regex`'s reason) when `regex` cannot run a pattern
    that `re` accepted; the loader calls it so a scenario fails at load, not later."""
    try:
        _compiled(pattern.pattern, pattern.flags)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def _timed(
    pattern: re.Pattern[str], budget: Budget | None, what: str
) -> tuple[regex.Pattern[str], float, float]:
    timeout = MATCH_TIMEOUT_S if budget is None else budget.timeout()
    if timeout <= 0 and budget is not None:
        raise PatternTimeout(pattern.pattern, budget.total, what)
    return _compiled(pattern.pattern, pattern.flags), timeout, time.monotonic()


def _done(budget: Budget | None, started: float) -> None:
    if budget is not None:
        budget.spend(time.monotonic() - started)


def search(
    pattern: re.Pattern[str], text: str, what: str = "the output", budget: Budget | None = None
) -> regex.Match[str] | None:
    """`pattern.search(text)` within the deadline; `what` names the text in the error."""
    compiled, timeout, started = _timed(pattern, budget, what)
    try:
        return compiled.search(text, timeout=timeout)
    except TimeoutError:
        raise PatternTimeout(pattern.pattern, timeout, what) from None
    finally:
        _done(budget, started)


def finditer(
    pattern: re.Pattern[str], text: str, what: str = "a line", budget: Budget | None = None
) -> list[regex.Match[str]]:
    """Every match of `pattern` in `text`, all found within the deadline."""
    compiled, timeout, started = _timed(pattern, budget, what)
    try:
        return list(compiled.finditer(text, timeout=timeout))
    except TimeoutError:
        raise PatternTimeout(pattern.pattern, timeout, what) from None
    finally:
        _done(budget, started)


def count(pattern: re.Pattern[str], text: str, what: str = "the response") -> int:
    """How many times `pattern` occurs in `text` (`len(re.findall(...))`), within the deadline."""
    return len(finditer(pattern, text, what))
