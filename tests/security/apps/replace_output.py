"""On its first request, replaces the folder named by $OUTPUT_DIR with a file:
the results path the harness checked before the run cannot be written at its end."""

import os
import shutil


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    folder = os.environ["OUTPUT_DIR"]
    if os.path.isdir(folder):
        shutil.rmtree(folder)
        with open(folder, "w") as out:
            out.write("not a folder any more\n")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
