"""The reference apps of the scenario catalog: small, stdlib only, Python 3.8+.

`app` (ASGI 3) answers by path, so one app serves many scenarios:

    GET /                          200 "hello"
    GET /sleep/<seconds>           sleeps, then 200 "slept <seconds>"
    GET /header?name=N&value=V     200 "hello" with the response header N: V exactly
                                   as asked (percent-decoded; the app does not
                                   validate it: that is the server's job)
    GET /scope                     200 JSON of what the server put in the scope
    ANY /context/<name>            reads the whole request body, then 200
                                   "before=<V> bytes=<N>": V is what a ContextVar
                                   held when the request began ("unset" unless
                                   an earlier request's context leaked into this
                                   one); the request then sets it to its path
    GET /state                     200 "n=<N>": counts requests in the lifespan
                                   state the server hands the request
                                   (scope["state"]), which must be its own copy
    GET /has-state                 200 "yes" if the server passes scope["state"]
                                   (0.21.0 and later), else "no"
    websocket (any path)           accepts with the first offered subprotocol,
                                   echoes every text message

It speaks the lifespan protocol.  `lifespan_fail_app` fails its start-up on
purpose; `wsgi_app` is a plain WSGI callable for `--interface wsgi`.

Every import of this module appends "<pid> <ppid>" to $HARNESS_IMPORT_LOG (the
harness sets it), so scenarios can count imports per process.
"""

import asyncio
import contextvars
import json
import os
from urllib.parse import parse_qs

#: Set by every /context/ request; a new request must start without a value.
_CONTEXT = contextvars.ContextVar("harness_reference_context", default="unset")


def _record_import():
    path = os.environ.get("HARNESS_IMPORT_LOG")
    if not path:
        return
    line = "%d %d\n" % (os.getpid(), os.getppid())
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one small O_APPEND write: atomic
    finally:
        os.close(fd)


_record_import()


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send, body, headers=(), status=200, content_type=b"text/plain"):
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive):
    """Read the request body to its end; its size."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            return size


def _text(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def _scope_report(scope):
    """The JSON-safe parts of the scope."""
    client = scope.get("client")
    server = scope.get("server")
    return {
        "type": scope.get("type"),
        "asgi": scope.get("asgi"),
        "http_version": scope.get("http_version"),
        "scheme": scope.get("scheme"),
        "method": scope.get("method"),
        "path": scope.get("path"),
        "raw_path": _text(scope.get("raw_path")),
        "query_string": _text(scope.get("query_string")),
        "root_path": scope.get("root_path"),
        "client": list(client) if client else None,
        "server": list(server) if server else None,
        "headers": [[_text(k), _text(v)] for k, v in scope.get("headers", [])],
    }


async def _http(scope, receive, send):
    path = scope["path"]
    if path.startswith("/sleep/"):
        seconds = path[len("/sleep/") :]
        await asyncio.sleep(float(seconds))
        await _respond(send, ("slept " + seconds).encode())
    elif path == "/header":
        query = parse_qs(_text(scope.get("query_string", b"")), keep_blank_values=True)
        name = query.get("name", ["x-test"])[0].encode("latin-1")
        value = query.get("value", [""])[0].encode("latin-1")
        await _respond(send, b"hello", headers=[(name, value)])
    elif path == "/scope":
        body = json.dumps(_scope_report(scope)).encode()
        await _respond(send, body, content_type=b"application/json")
    elif path.startswith("/context/"):
        before = _CONTEXT.get()
        _CONTEXT.set(path)
        size = await _read_body(receive)
        await _respond(send, ("before=%s bytes=%d" % (before, size)).encode())
    elif path == "/state":
        state = scope.get("state")
        if state is None:
            await _respond(send, b"no state in the scope")
            return
        state["n"] = state.get("n", 0) + 1
        await _respond(send, ("n=%d" % state["n"]).encode())
    elif path == "/has-state":
        await _respond(send, b"yes" if "state" in scope else b"no")
    else:
        await _respond(send, b"hello")


async def _websocket(scope, receive, send):
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    accept = {"type": "websocket.accept"}
    offered = scope.get("subprotocols") or []
    if offered:
        accept["subprotocol"] = offered[0]
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        elif message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    else:
        await _http(scope, receive, send)


async def lifespan_fail_app(scope, receive, send):
    """Start-up fails on purpose (`lifespan.startup.failed`)."""
    if scope["type"] == "lifespan":
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed", "message": "start-up failed on purpose"})
        return
    await _respond(send, b"unreachable")


def wsgi_app(environ, start_response):
    """A plain WSGI callable, for `--interface wsgi`."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]
