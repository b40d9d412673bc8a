"""Writes FLOOD_MB megabytes (default 200) of log lines to stdout during start-up."""

import os
import sys

from faults._hello import hello

LINE = b"flood line %09d " + b"x" * 80 + b"\n"


def flood(megabytes):
    out = sys.stdout.buffer
    total = megabytes * 1024 * 1024
    written = 0
    number = 0
    while written < total:
        chunk = b"".join(LINE % (number + i) for i in range(1000))
        out.write(chunk)
        written += len(chunk)
        number += 1000
    out.write(b"flood finished after %d lines\n" % number)
    out.flush()


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                flood(int(os.environ.get("FLOOD_MB", "200")))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await hello(send)
