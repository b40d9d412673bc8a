"""The reference app of the port-zero fix card (uvicorn issue 974), verbatim.

It does not speak the lifespan protocol on purpose: that is what the card ran.
"""


async def app(scope, receive, send):
    assert scope["type"] == "http"

    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                [b"content-type", b"text/plain"],
            ],
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": b"Hello, world!",
        }
    )
