"""Where a scenario may make its server listen: loopback, and nothing else.

The harness runs servers from other people's scenario files on CI machines;
a server listening on `0.0.0.0` would be reachable from the network for the
whole cell.  The loader refuses every way a scenario can name a host that we
can see without running anything: `host`, the command's `--host`/`--bind`
options and `host=`/`bind=` arguments of launchers (`server/launch.py`), and
environment variables that servers read their address from (`UVICORN_HOST`,
`GUNICORN_CMD_ARGS`, ...).  What a server does on its own is caught while it
runs (`harness.runner.loopback_guard`).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping, Sequence

#: The placeholder the harness fills with its own loopback address.
HOST_PLACEHOLDER = "{host}"
#: Command options whose value is a host, and those whose value is HOST:PORT.
_HOST_OPTIONS = frozenset({"--host", "-h"})
_BIND_OPTIONS = frozenset({"--bind", "-b"})
#: `key=value` arguments (launcher scripts) that name a host or an address.
_HOST_KEYS = frozenset({"host", "bind", "address", "addr", "listen"})
#: Environment variables that carry a server's host or address: *_HOST, *_BIND, ...
_ADDRESS_VAR = re.compile(r"(?:^|_)(?:HOST|HOSTNAME|BIND|LISTEN|ADDR|ADDRESS)(?:_|$)")
#: Environment variables that carry extra command-line options (GUNICORN_CMD_ARGS).
_ARGS_VAR = re.compile(r"(?:^|_)(?:ARGS|OPTS|OPTIONS|FLAGS)$")


def is_loopback_host(text: str) -> bool:
    """127.0.0.0/8, ::1 (bracketed or not, IPv4-mapped or not) and `localhost`.

    Everything else is refused: `0.0.0.0`, `::`, `0`, short forms like `127.1`,
    and host names (which may resolve anywhere).
    """
    host = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    host = host.split("%", 1)[0]  # an IPv6 zone
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _host_ok(value: str) -> bool:
    return value == HOST_PLACEHOLDER or is_loopback_host(value)


def _bind_ok(value: str) -> bool:
    """`HOST:PORT`, `[V6]:PORT`, `HOST`, or a Unix socket / descriptor (`unix:`, `fd://`)."""
    if value.startswith(("unix:", "fd://")):
        return True
    if value.startswith("["):
        host = value[: value.find("]") + 1] if "]" in value else value
    elif value.count(":") == 1:
        host = value.split(":", 1)[0]
    else:
        host = value
    return _host_ok(host)


def command_host_problem(tokens: Sequence[str]) -> tuple[int, str] | None:
    """The first token of a command that names a host beyond loopback: (index, value)."""
    for index, token in enumerate(tokens):
        option, equals, value = token.partition("=")
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if option in _HOST_OPTIONS | _BIND_OPTIONS and not equals:
            if following is None:
                continue
            ok = _host_ok(following) if option in _HOST_OPTIONS else _bind_ok(following)
            if not ok:
                return index + 1, following
        elif equals and option.lstrip("-") in _HOST_KEYS | {"h", "b"}:
            key = option.lstrip("-")
            ok = _host_ok(value) if key in ("host", "h") else _bind_ok(value)
            if not ok:
                return index, value
    return None


def env_host_problem(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The first variable that sets a server's address beyond loopback: (name, value)."""
    for name, value in env.items():
        if _ADDRESS_VAR.search(name) and not all(_bind_ok(part) for part in value.split(",")):
            return name, value
        if _ARGS_VAR.search(name):
            try:
                tokens = shlex.split(value)
            except ValueError:
                return name, value
            if command_host_problem(tokens) is not None:
                return name, value
    return None
