"""Fails every request with an exception whose message drives a terminal:
a window title (OSC 0), an erased line, a fake verdict, a bell."""

MESSAGE = "\x1b]0;PWNED-TITLE\x1b\\\x1b[2K\x1b[1A all cells passed \x07\x9b31m\r"


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    print("printed by the app: \x1b]52;c;ZXZpbA==\x07", flush=True)
    raise RuntimeError(MESSAGE)
