"""What a card's app needs and answers, read from its code (never run).

The draft's HTTP check must fit the app: a plain ASGI callable that answers
every request with one literal body can be checked exactly (status 200 and
that body); a framework app is probed on a route it declares, and any
complete response counts.  Third-party imports become the scenario's pins.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

#: Import names whose distribution is named differently.
_DISTRIBUTIONS = {
    "multipart": "python-multipart",
    "yaml": "pyyaml",
    "jose": "python-jose",
    "dotenv": "python-dotenv",
    "jwt": "pyjwt",
    "PIL": "pillow",
    "socketio": "python-socketio",
}
_SERVER = frozenset({"uvicorn"})
_ROUTE_METHODS = frozenset({"get", "post", "put", "delete", "patch", "route", "api_route"})


@dataclass(frozen=True)
class AppInfo:
    plain_asgi: bool
    body: str | None
    path: str
    pins: tuple[str, ...]


def _third_party(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".", 1)[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module.split(".", 1)[0])
    stdlib = set(sys.stdlib_module_names)
    wanted = [n for n in dict.fromkeys(names) if n not in stdlib and n not in _SERVER]
    return [_DISTRIBUTIONS.get(name, name.lower().replace("_", "-")) for name in wanted]


def _plain_asgi(tree: ast.Module, attribute: str) -> bool:
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == attribute:
            return [a.arg for a in node.args.args] == ["scope", "receive", "send"]
    return False


def _bodies(tree: ast.Module) -> set[bytes]:
    bodies: set[bytes] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                isinstance(key, ast.Constant)
                and key.value == "body"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, bytes)
            ):
                bodies.add(value.value)
    return bodies


def _first_route(tree: ast.Module) -> str | None:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        named = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (named in _ROUTE_METHODS or named in ("Route", "Mount")) and first.value.startswith("/"):
            return first.value
    return None


def analyse(source: str, attribute: str) -> AppInfo:
    """Static facts about the app; the source is known to compile."""
    tree = ast.parse(source)
    plain = _plain_asgi(tree, attribute)
    bodies = _bodies(tree) if plain else set()
    body: str | None = None
    if len(bodies) == 1:
        raw = next(iter(bodies))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        body = text if text.isprintable() and 0 < len(text) <= 1000 else None
    route = None if plain else _first_route(tree)
    path = route if route is not None and "{" not in route else "/"
    return AppInfo(plain, body, path, tuple(_third_party(tree)))
