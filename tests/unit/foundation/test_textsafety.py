"""Text from files and servers, made safe to show (harness.textsafety)."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from harness.reports.console import SafeConsole
from harness.textsafety import escape, excerpt, visible


def test_visible_writes_out_control_characters_and_keeps_lines() -> None:
    assert visible("a\x1b[31mb\tc\nd\r\x07\x9b\u202e") == "a\\x1b[31mb\tc\nd\\x0d\\x07\\x9b\\u202e"


def _printed(markup: str) -> str:
    out = io.StringIO()
    SafeConsole(file=out, width=10_000, highlight=False, emoji=False).print(markup, end="")
    return out.getvalue()


@given(st.text(alphabet=st.sampled_from("ab[]/\\#@ =x"), max_size=30))
def test_escaped_text_prints_exactly_as_itself_before_more_markup(text: str) -> None:
    assert _printed(f"{escape(text)}[bold]|[/]") == text + "|"


def test_excerpt_stops_before_values() -> None:
    assert excerpt("AWS_SECRET_ACCESS_KEY=abc") == "AWS_SECRET_A…"
    assert excerpt("root:$6$hash") == "root…"
    assert excerpt("uvicorn") == "uvicorn"
    assert excerpt("\x1b]0;x") == "…"
