"""Lifespan start-up that never completes: the server never becomes ready."""

import asyncio

from faults._hello import hello


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await asyncio.Event().wait()  # ... and never answer it
        return
    await hello(send)
