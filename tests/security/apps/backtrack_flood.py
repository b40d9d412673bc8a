"""Prints the backtracking line every 20 ms, for as long as it runs."""

import threading
import time

LINE = "a" * 40 + "!"


def _flood():
    while True:
        print(LINE, flush=True)
        time.sleep(0.02)


threading.Thread(target=_flood, daemon=True).start()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
