"""Find the server's command line in a card and turn it into a scenario command.

Cards show the command as typed at a prompt (`(venv) C:\\lab>uvicorn --workers 2
server:app`, `$ venv/linux-3.8/bin/uvicorn example:app --port=0`), often
followed by the server's output on the same flattened line.  The command is
the part from the `uvicorn` (or `python -m uvicorn`) invocation up to where
the transcript continues.  It becomes an argument list with the harness's
placeholders: the app is `{app}`, the host is loopback `{host}`, and a fixed
port is one the harness picks (`{port}`); `--port 0` stays, since asking the
OS for a port may be the bug.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from harness.cards.text import CardError, excerpt

_INVOCATION = re.compile(
    r"(?:^|(?<=[\s>$#\u03bb]))(?P<exe>(?:[\w.~:-]*[/\\])*(?:uvicorn(?:\.exe)?|"
    r"python(?:3(?:\.\d+)?)?(?:\.exe)?\s+-m\s+uvicorn))(?P<args>(?:\s+[^\s]+)*)"
)
#: Where a transcript goes on after the command.
_TRANSCRIPT = re.compile(
    r"\s(?:INFO|ERROR|WARNING|DEBUG|CRITICAL):|\sTraceback \(|\sUsage:|\s\[\d\d:\d\d:\d\d\]|"
    r"\s\.\.\.|\u2026"
)
_APP = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_SAFE_TOKEN = re.compile(r"^[\x21-\x7e]{1,200}$")
#: Options naming files the card does not carry: dropped, and said so.
_FILE_OPTIONS = frozenset(
    {
        "--env-file",
        "--log-config",
        "--ssl-keyfile",
        "--ssl-certfile",
        "--ssl-ca-certs",
        "--app-dir",
        "--reload-dir",
        "--uds",
        "--fd",
    }
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class ServerCommand:
    """A scenario command drafted from a card's command line."""

    typed: str
    app: str
    command: tuple[str, ...]
    #: 0: the server picks (`--port 0` in the card); None: the harness picks.
    port: int | None
    workers: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)


def find_invocation(text: str) -> str | None:
    """The first `uvicorn ...` command line in a text (prompt and output cut off)."""
    for match in _INVOCATION.finditer(text):
        args = match.group("args")
        cut = _TRANSCRIPT.search(args)
        if cut is not None:
            args = args[: cut.start()]
        line = (match.group("exe") + args).strip()
        if any(_APP.match(token) for token in line.split()[1:]):
            return line
    return None


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError:
        return line.split()


def _escape(token: str) -> str:
    return token.replace("{", "{{").replace("}", "}}")


def parse_command(typed: str) -> ServerCommand:
    """Turn a typed command line into the scenario's command; CardError if unusable."""
    tokens = _split(typed)
    exe = tokens[0] if tokens else ""
    args = tokens[1:]
    if re.search(r"python", exe.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]) and args[:2] == [
        "-m",
        "uvicorn",
    ]:
        args = args[2:]
    command: list[str] = ["uvicorn"]
    notes: list[str] = []
    app = ""
    port: int | None = None
    workers = 1
    host_seen = False
    index = 0
    while index < len(args):
        token = args[index]
        name, eq, inline = token.partition("=")
        value = inline if eq else (args[index + 1] if index + 1 < len(args) else "")
        width = 1 if eq else 2
        if not _SAFE_TOKEN.match(token):
            raise CardError(f"the card's command has an unusable argument: {excerpt(token, 40)!r}")
        if _APP.match(token) and not app:
            app = token
            command.append("{app}")
            index += 1
            continue
        if name == "--host":
            host_seen = True
            if value not in _LOOPBACK:
                notes.append(f"--host {excerpt(value, 40)} replaced by loopback {{host}}")
            command += ["--host", "{host}"]
            index += width
            continue
        if name == "--port":
            if value == "0":
                port = 0
                command += [token] if eq else ["--port", "0"]
            else:
                notes.append(f"--port {excerpt(value, 10)}: a port the harness picks instead")
                command += ["--port", "{port}"]
            index += width
            continue
        if name in _FILE_OPTIONS:
            notes.append(f"{name} dropped: the card does not carry what it names")
            index += width
            continue
        if name == "--workers" and value.isdigit():
            workers = int(value)
        command.append(_escape(token))
        index += 1
    if not app:
        raise CardError(f"the card's command names no app (module:attribute): {excerpt(typed)}")
    if not host_seen:
        command += ["--host", "{host}"]
    if port is None and "--port" not in " ".join(command):
        command += ["--port", "{port}"]
        notes.append("no --port in the card (uvicorn's default 8000): a port the harness picks")
    return ServerCommand(typed, app, tuple(command), port, workers, tuple(notes))
