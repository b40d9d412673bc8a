"""At start-up, starts helper processes that ignore SIGINT and SIGTERM.

One helper moves to its own process group (a signal to the server's group
misses it); the other starts a new session and daemonises (it leaves the
server's session entirely).  Both sleep for an hour unless killed.
"""

import subprocess
import sys

from faults._hello import hello

_IGNORE = (
    "import os, signal, sys, time\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "if sys.argv[1] == 'group':\n"
    "    os.setpgid(0, 0)\n"
    "else:\n"
    "    os.setsid()\n"
    "    if os.fork():\n"
    "        os._exit(0)\n"
    "sys.stdout.write('stubborn helper (%s) pid %d ignores SIGINT and SIGTERM\\n'"
    " % (sys.argv[1], os.getpid()))\n"
    "sys.stdout.flush()\n"
    "time.sleep(3600)\n"
)


def start_helpers():
    for kind in ("group", "daemon"):
        subprocess.Popen([sys.executable, "-c", _IGNORE, kind])


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                start_helpers()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await hello(send)
