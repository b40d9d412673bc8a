"""Start and stop a server under Wine: the runner's `Launcher` for windows-wine.

* argv: `wine <env>\\python.exe -u -B -X utf8 -m uvicorn ...`.  The embeddable
  build ignores `PYTHONUNBUFFERED`, `PYTHONIOENCODING` and `PYTHONPYCACHEPREFIX`
  (see `embed`), so their effect is asked for on the command line (`-B`: no
  `__pycache__` written into the app folder);
* the app folder reaches `sys.path` through `$UVICORN_HARNESS_APP_DIR` (as a
  Windows path), the embeddable build's stand-in for `PYTHONPATH`;
* standard streams: the runner gives the server /dev/null and pipes.  That is
  required: Windows CPython aborts at start-up ("init_sys_streams ... WinError 6")
  when any of them is a regular file;
* stop: Wine turns SIGINT into CTRL_C_EVENT for the Windows process, which is
  how a console Ctrl+C reaches it, and uvicorn shuts down cleanly (exit 0 in
  about 0.25 s).  SIGTERM kills a Windows process at once, with no shutdown,
  so both stop signals are sent as SIGINT.  `CTRL_BREAK_EVENT` from a Windows
  launcher fails under Wine (GenerateConsoleCtrlEvent: ERROR_INVALID_ACCESS).
  The runner's escalation (SIGTERM, then SIGKILL on the process group) still
  applies, and the session stops the wineserver at the end of the run;
* before every start the session is warmed up (see `prefix.WineSession`);
* Wine keeps every socket in `wineserver`, so which ports the server's own
  processes listen on cannot be checked; the port must still accept.
"""

from __future__ import annotations

import signal
from pathlib import Path

from harness.targets.wine.embed import APP_DIR_VARIABLE
from harness.targets.wine.prefix import WineSession
from harness.targets.wine.tools import windows_path, wine_variables


class WineLauncher:
    sockets_hidden = "under Wine the listening socket is held by wineserver"

    def __init__(self, session: WineSession) -> None:
        self.session = session

    def argv_prefix(self, env_python: Path, head: str) -> list[str]:
        argv = [self.session.tools.wine, str(env_python), "-u", "-B", "-X", "utf8"]
        return argv + (["-m", "uvicorn"] if head == "uvicorn" else [])

    def environment(self, env: dict[str, str], app_dir: Path) -> dict[str, str]:
        wine_env = dict(env)
        wine_env[APP_DIR_VARIABLE] = windows_path(app_dir)
        wine_env.update(wine_variables(self.session.prefix))
        return wine_env

    def prepare(self) -> None:
        # A failed warm-up is not fatal: the server's own start shows what is wrong.
        self.session.warm_up()

    def stop_signal(self, name: str) -> int:
        return int(signal.SIGINT)
