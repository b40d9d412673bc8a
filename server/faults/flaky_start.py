"""Start-up fails on every other start: the 1st, 3rd, ... start reports failure.

The count lives in the folder named by FLAKY_STATE, so consecutive server
processes (repeats and retries of one cell) see it.
"""

import os
from pathlib import Path

from faults._hello import hello


def next_start():
    counter = Path(os.environ["FLAKY_STATE"]) / "starts"
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    return number


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                number = next_start()
                if number % 2:
                    failed = "flaky start: attempt %d failed" % number
                    await send({"type": "lifespan.startup.failed", "message": failed})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await hello(send)
