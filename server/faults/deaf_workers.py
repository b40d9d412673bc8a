"""For `--workers N`: every worker ignores SIGINT and SIGTERM once started."""

import os
import signal

from faults._hello import hello


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print("worker %d now ignores SIGINT and SIGTERM" % os.getpid(), flush=True)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await hello(send)
