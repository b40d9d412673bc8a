"""Prints (and answers with) the line that makes backtracking regexes run for ages."""

LINE = "a" * 40 + "!"
print(LINE, flush=True)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    print(LINE, flush=True)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": LINE.encode() + b"\n"})
