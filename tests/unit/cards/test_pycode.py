"""Flattened repro.py back into code that compiles (cards lose their newlines)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cards.pycode import module_hint, reconstruct
from harness.cards.statements import split_statements
from harness.cards.text import CardError

SEED = (
    "# example.py async def app(scope, receive, send): assert scope['type'] == 'http' "
    "await send({ 'type': 'http.response.start', 'status': 200, 'headers': [ "
    "[b'content-type', b'text/plain'], ], }) await send({ 'type': 'http.response.body', "
    "'body': b'Hello, world!', })"
)


def test_seed_app_is_reindented_and_the_filename_comment_dropped() -> None:
    code = reconstruct(SEED)
    assert code.splitlines()[0] == "async def app(scope, receive, send):"
    assert code.splitlines()[1] == "    assert scope['type'] == 'http'"
    assert [line[:14] for line in code.splitlines()[2:]] == ["    await send"] * 2
    assert module_hint(SEED) == "example"


def test_framework_app_with_decorator_and_module_level_object() -> None:
    flat = (
        "from fastapi import FastAPI app = FastAPI() @app.get('/items') "
        "async def items(): return {'a': 1}"
    )
    assert reconstruct(flat) == (
        "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/items')\n"
        "async def items():\n    return {'a': 1}\n"
    )


def test_dedent_after_return_and_clauses_join_their_header() -> None:
    flat = (
        "async def home(request): return JSONResponse({'ok': True}) def pick(x): "
        "if x: y = 1 elif x is None: y = 2 else: y = 3 return y if y else 0 "
        "app = Starlette(routes=[Route('/', home)])"
    )
    code = reconstruct(flat)
    assert "\napp = Starlette" in code
    assert "    elif x is None:\n        y = 2\n    else:\n" in code
    assert "    return y if y else 0\n" in code


def test_bare_return_before_an_assignment_is_its_own_statement() -> None:
    texts = [s.text for s in split_statements("def f(): return x = 1")]
    assert texts == ["def f():", "return", "x = 1"]


def test_code_with_its_newlines_is_kept_as_is() -> None:
    code = "async def app(scope, receive, send):\n    pass\n"
    assert reconstruct(code) == code


@pytest.mark.parametrize(
    ("flat", "message"),
    [
        ("async def app(scope, receive, send): await send({'a' ... (truncated) ...", "truncated"),
        ("async def handler(scope, receive, send): pass", "defines no top-level `app`"),
        ("async def app(scope: 'unterminated", "tokenized"),
        ("def def def", "re-indented"),
    ],
)
def test_unusable_code_is_a_clear_card_error(flat: str, message: str) -> None:
    with pytest.raises(CardError, match=message):
        reconstruct(flat)


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("abc def:()[]{}'\"#=\\@ .\n\tif return await")), max_size=80
    )
)
def test_any_text_gives_code_or_a_card_error(flat: str) -> None:
    try:
        code = reconstruct(flat)
    except CardError:
        return
    compile(code, "<test>", "exec")
