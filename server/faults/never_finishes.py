"""Responses that never finish: /hang stalls after the headers, /trickle never ends."""

import asyncio


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [[b"content-type", b"text/plain"]],
        }
    )
    if scope["path"] == "/trickle":
        while True:  # one byte every 100 ms, forever: no read timeout ever fires
            await send({"type": "http.response.body", "body": b".", "more_body": True})
            await asyncio.sleep(0.1)
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    await asyncio.Event().wait()
