"""Command line: `python -m harness <command>`; see `harness.commands`.

The CLI owns exit codes: every `HarnessError` becomes one line on stderr and
its code; Ctrl-C (and SIGTERM) kill every child session and exit 130.
"""

from __future__ import annotations

import argparse
import atexit
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn

from harness.commands import COMMANDS
from harness.errors import EXIT_INTERRUPTED, EXIT_USAGE, HarnessError
from harness.procs.registry import REGISTRY
from harness.reports.console import SafeConsole
from harness.textsafety import escape


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; our contract says 3.  Options are never
    abbreviated: `--js` is not `--json` (the nox sessions read the options the
    same way to decide which defaults to add)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.__doc__)
        command.add_arguments(sub)
        sub.set_defaults(handler=command.main)
    return parser


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = SafeConsole(highlight=False)
    errors = SafeConsole(stderr=True, highlight=False)
    atexit.register(REGISTRY.kill_everything)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
        # Started in the background, a process may inherit SIGINT *ignored*, and an
        # ignored signal stays ignored across exec: servers would never see Ctrl-C
        # (uvicorn 0.29's re-raised SIGINT would be swallowed).  A Python handler is
        # reset to the default in children, as a terminal would have it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return int(args.handler(args, console))
    except HarnessError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        REGISTRY.kill_everything()
        errors.print("[bold red]interrupted[/]")
        return EXIT_INTERRUPTED
