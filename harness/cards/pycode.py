"""Rebuild Python code whose newlines were lost (a card's flattened `repro.py`).

`async def app(scope, receive, send): assert x await send({...})` is one line
that used to be many.  The tokenizer still reads it (brackets hold their
contents together), so statements are split where Python's grammar says one
must end: after a compound statement's header colon, and where two atoms meet
at bracket depth 0 with no operator between them.  Indentation is then a
search: each statement gets a level (after a header: one deeper; otherwise the
same level or a dedent, in an order of likelihood), and a layout is accepted
only when `compile()` takes it and the module defines the object the server
is told to serve.  Comments (`# example.py`) swallow the rest of a flattened
line, so each is cut where the code after it plausibly starts.
"""

from __future__ import annotations

import ast
import re
import warnings

from harness.cards.statements import Statement, split_statements, without_comments
from harness.cards.text import CardError, is_truncated

#: Layouts tried before giving up (each is one `compile()`).
MAX_ATTEMPTS = 3000


def _matching_levels(statement: Statement, stack: list[tuple[int, str]]) -> list[int]:
    """Levels of open headers a clause (`else`, `elif`, `except`, `finally`) can join."""
    wanted = {
        "elif": ("if", "elif"),
        "else": ("if", "elif", "for", "while", "try", "except", "async"),
        "except": ("try", "except"),
        "finally": ("try", "except", "else"),
    }[statement.first]
    return [level for level, kind in reversed(stack) if kind in wanted]


def _choices(
    statement: Statement, previous: Statement | None, stack: list[tuple[int, str]], level: int
) -> list[int]:
    """Candidate levels for a statement, most likely first."""
    if previous is not None and previous.header:
        return [level + 1]
    if previous is not None and previous.decorator:
        return [level]
    if statement.first in ("elif", "else", "except", "finally"):
        return _matching_levels(statement, stack)
    dedents = list(range(level - 1, -1, -1))
    if statement.first in ("import", "from") or statement.text.startswith("if __name__"):
        return [0, *[lv for lv in range(level, 0, -1)]]
    if statement.first in ("def", "class", "async") or statement.decorator:
        functions = [lv for lv, kind in reversed(stack) if kind in ("def", "async")]
        first = [functions[0]] if functions else []
        rest = [lv for lv in [level, *dedents] if lv not in first]
        return first + rest
    if previous is not None and previous.terminal:
        return [*dedents, level]
    return [level, *dedents]


def _render(statements: list[Statement], levels: list[int]) -> str:
    return "".join("    " * lv + s.text + "\n" for s, lv in zip(statements, levels, strict=True))


def _defines(tree: ast.Module, name: str) -> bool:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            return True
    return False


def compiles(source: str) -> ast.Module | None:
    """The module's AST when the source compiles (nothing is executed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "<card>", "exec", dont_inherit=True)
            return ast.parse(source)
        except (SyntaxError, ValueError):
            return None


class _Search:
    def __init__(self, statements: list[Statement], attribute: str) -> None:
        self.statements = statements
        self.attribute = attribute
        self.attempts = 0
        self.compiled_without_attribute = False

    def run(self) -> str | None:
        return self._place(0, [], [], 0)

    def _place(
        self, index: int, levels: list[int], stack: list[tuple[int, str]], level: int
    ) -> str | None:
        if self.attempts >= MAX_ATTEMPTS:
            return None
        if index == len(self.statements):
            self.attempts += 1
            source = _render(self.statements, levels)
            tree = compiles(source)
            if tree is None:
                return None
            if _defines(tree, self.attribute):
                return source
            self.compiled_without_attribute = True
            return None
        statement = self.statements[index]
        previous = self.statements[index - 1] if index else None
        for choice in _choices(statement, previous, stack, level):
            if choice < 0 or (index == 0 and choice != 0):
                continue
            kept = [(lv, kind) for lv, kind in stack if lv < choice]
            if statement.header:
                kept.append((choice, statement.first))
            found = self._place(index + 1, [*levels, choice], kept, choice)
            if found is not None:
                return found
        return None


def reconstruct(flat: str, attribute: str = "app") -> str:
    """Source code that compiles and defines `attribute`, from a flattened line.

    Raises `CardError` saying why when no layout works (truncated code, a
    tokenizer error, nothing that defines the attribute).
    """
    if is_truncated(flat):
        raise CardError("repro.py is truncated in the card; the app cannot be rebuilt")
    as_is = flat if flat.endswith("\n") else flat + "\n"
    tree = compiles(as_is)
    if tree is not None and _defines(tree, attribute):
        return as_is
    last_error = ""
    compiled_elsewhere = False
    for code in list(without_comments(flat.strip()))[:60]:
        try:
            statements = split_statements(code)
        except CardError as exc:
            last_error = str(exc)
            continue
        if not statements:
            continue
        search = _Search(statements, attribute)
        found = search.run()
        if found is not None:
            return found
        compiled_elsewhere = compiled_elsewhere or search.compiled_without_attribute
    if compiled_elsewhere:
        raise CardError(f"repro.py defines no top-level `{attribute}` (the object served)")
    raise CardError(
        "repro.py could not be re-indented into code that compiles"
        + (f" ({last_error})" if last_error else "")
    )


def module_hint(flat: str) -> str | None:
    """`example` from a leading `# example.py` comment, if the card has one."""
    match = re.match(r"\s*#\s*([A-Za-z_]\w*)\.py\b", flat)
    return match.group(1) if match else None
