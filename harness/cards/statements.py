"""Split a flattened line of Python into its statements, with the tokenizer.

Brackets hold their contents together, so a statement must end after a
compound statement's header colon, or where two atoms meet at bracket depth 0
with no operator between them.  Comments (`# example.py`) swallow the rest of
a flattened line, so each is cut where the code after it plausibly starts.
`harness.cards.pycode` then searches for the indentation.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from harness.cards.text import CardError

#: More statements than a minimal reproduction has: not worth a search.
MAX_STATEMENTS = 400

_COMPOUND = frozenset(
    {
        "def",
        "class",
        "if",
        "elif",
        "else",
        "for",
        "while",
        "with",
        "try",
        "except",
        "finally",
        "async",
    }
)
#: Keywords that start a statement and never continue an expression.
_STATEMENT_ONLY = frozenset(
    {
        "def",
        "class",
        "return",
        "del",
        "pass",
        "break",
        "continue",
        "raise",
        "global",
        "nonlocal",
        "assert",
        "import",
        "while",
        "with",
        "try",
        "except",
        "finally",
        "elif",
        "async",
        "await",
        "yield",
        "lambda",
        "for",
    }
)
#: Keywords that cannot follow `return`/`yield` in one statement: those that
#: only start one (less the expression-starting ones), and the clause keywords.
_AFTER_BARE = (_STATEMENT_ONLY - {"await", "lambda", "yield"}) | {"else", "from", "if"}
_CONTINUES = frozenset({"and", "or", "in", "is", "as", "not"})
_TERMINAL = frozenset({"return", "raise", "continue", "break"})
_ATOM_KEYWORDS = frozenset({"True", "False", "None"})
_STATEMENT_START = re.compile(
    r"(?:(?:async\s+def|def|class|import|if|for|while|with|return|await|raise|assert)\b|"
    r"from\s+[\w.]+\s+import\b|try:|@[\w.]+|[A-Za-z_]\w*\s*=(?!=)|[A-Za-z_][\w.]*\()"
)


@dataclass(frozen=True)
class Statement:
    text: str
    first: str
    header: bool
    decorator: bool = False

    @property
    def terminal(self) -> bool:
        return self.first in _TERMINAL


def _comment_spans(flat: str) -> list[int]:
    """Offsets of `#` that start a comment (outside string literals)."""
    found: list[int] = []
    index = 0
    quote: str | None = None
    while index < len(flat):
        if quote is not None:
            if flat[index] == "\\":
                index += 2
                continue
            if flat.startswith(quote, index):
                index += len(quote)
                quote = None
                continue
            index += 1
            continue
        char = flat[index]
        if char in "'\"":
            quote = flat[index : index + 3] if flat[index : index + 3] in ("'''", '"""') else char
            index += len(quote)
            continue
        if char == "#":
            found.append(index)
        index += 1
    return found


def _cuts(flat: str, start: int) -> list[int]:
    """Where a comment starting at `start` may end: before each plausible statement."""
    cuts = []
    for match in re.finditer(r"\s+", flat[start:]):
        offset = start + match.end()
        if _STATEMENT_START.match(flat, offset):
            cuts.append(offset)
    return [*cuts, len(flat)]


def without_comments(flat: str) -> Iterator[str]:
    """The code with its comments cut out, most likely cut first."""
    spans = _comment_spans(flat)
    if not spans:
        yield flat
        return
    first = spans[0]
    for cut in _cuts(flat, first)[:40]:
        rest = flat[cut:]
        for tail in without_comments(rest):
            yield flat[:first].rstrip() + (" " if first else "") + tail


def _tokens(code: str) -> list[tokenize.TokenInfo]:
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    skip.add(tokenize.COMMENT)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise CardError(f"repro.py cannot be tokenized: {exc}") from None
    return [t for t in tokens if t.type not in skip]


def _is_ender(token: tokenize.TokenInfo) -> bool:
    if token.type == tokenize.NAME:
        return not keyword.iskeyword(token.string) or token.string in _ATOM_KEYWORDS
    if token.type in (tokenize.NUMBER, tokenize.STRING):
        return True
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    return token.type == fstring_end or token.string in (")", "]", "}", "...")


def _is_string_start(token: tokenize.TokenInfo) -> bool:
    return token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_START", -1)


def _ternary_ahead(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    """`if` at depth 0 after an atom: a conditional expression when `else` comes
    before any header colon."""
    depth = 0
    for token in tokens[index + 1 :]:
        if token.string in "([{" and token.type == tokenize.OP:
            depth += 1
        elif token.string in ")]}" and token.type == tokenize.OP:
            depth -= 1
        elif depth == 0 and token.string == "else":
            return True
        elif depth == 0 and token.string == ":":
            return False
    return False


def _decorator_ahead(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    """`@` at depth 0 after an atom: a decorator if a definition follows it."""
    depth = 0
    for token in tokens[index + 1 :]:
        if token.string in "([{" and token.type == tokenize.OP:
            depth += 1
        elif token.string in ")]}" and token.type == tokenize.OP:
            depth -= 1
        elif depth == 0 and token.string in ("def", "class", "async", "@"):
            return True
        elif depth == 0 and token.type != tokenize.NAME and token.string not in ".)":
            return False
    return False


def _bare_return(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    """`return x = 1`: the `return` stood alone, an assignment follows it."""
    depth = 0
    previous: tokenize.TokenInfo | None = None
    for token in tokens[index + 1 :]:
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        elif (depth == 0 and token.string in _STATEMENT_ONLY | {":"}) or (
            depth == 0
            and previous is not None
            and _is_ender(previous)
            and token.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING)
        ):
            return False
        elif depth == 0 and token.type == tokenize.OP and token.string.endswith("="):
            return token.string not in ("==", "<=", ">=", "!=")
        previous = token
    return False


def _starts_statement(tokens: list[tokenize.TokenInfo], index: int, first: str) -> bool:
    """Whether tokens[index] must begin a new statement (the previous one ended)."""
    prev, token = tokens[index - 1], tokens[index]
    if prev.type == tokenize.NAME and prev.string in ("pass", "break", "continue"):
        return True
    if prev.string in ("return", "yield"):
        if token.string in _AFTER_BARE and not (prev.string == "yield" and token.string == "from"):
            return True
        return _bare_return(tokens, index - 1)
    if not _is_ender(prev):
        return False
    text = token.string
    if token.type == tokenize.NAME and keyword.iskeyword(text) and text not in _ATOM_KEYWORDS:
        if text in _CONTINUES:
            return False
        if text == "if":
            return not _ternary_ahead(tokens, index)
        if text == "else":
            return first != "if-expr"
        if text == "from":
            return first not in ("raise", "yield")
        if text == "import":
            return first != "from"
        return True
    if token.type in (tokenize.NAME, tokenize.NUMBER):
        return True
    if _is_string_start(token):
        return not (prev.type == tokenize.STRING or _is_string_start(prev))
    if text == "{":
        return True
    if text == "@":
        return _decorator_ahead(tokens, index)
    return False


def split_statements(code: str) -> list[Statement]:
    """The logical statements of one flattened line, each with its own text."""
    tokens = _tokens(code)
    statements: list[Statement] = []
    start = 0
    depth = 0
    first = ""
    compound = False
    ternary = False

    def close(end: int, header: bool) -> None:
        nonlocal start
        pieces = tokens[start:end]
        if pieces:
            text = code[pieces[0].start[1] : pieces[-1].end[1]].strip()
            lead = pieces[0].string
            statements.append(Statement(text, lead, header, decorator=lead == "@"))
        start = end

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if index == start:
            first, ternary = token.string, False
            compound = token.string in _COMPOUND
        elif depth == 0:
            if token.string == ";":
                close(index, False)
                start = index + 1
                index += 1
                continue
            if token.string == "if" and _is_ender(tokens[index - 1]):
                ternary = ternary or _ternary_ahead(tokens, index)
            if _starts_statement(tokens, index, "if-expr" if ternary else first):
                close(index, False)
                continue
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and compound and token.string == ":" and not ternary:
            close(index + 1, True)
        index += 1
    close(len(tokens), False)
    if len(statements) > MAX_STATEMENTS:
        raise CardError(f"repro.py has {len(statements)} statements; at most {MAX_STATEMENTS}")
    return statements
