"""Interpreter requests that cannot be met say why, in words a user can act on."""

from __future__ import annotations

from harness.envs.interpreters import InterpreterFinder


def test_python_2_is_named_as_unsupported_not_as_missing() -> None:
    finder = InterpreterFinder(env={"PATH": ""})
    request = finder.resolve("2.7")
    assert request.interpreter is None
    assert request.reason == "Python 2.7: Python 2 is not supported"
    missing = finder.resolve("3.99")
    assert missing.interpreter is None and missing.reason.startswith("Python 3.99 not found")
