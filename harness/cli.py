"""Command line: `python -m harness <command>` (also installed as `uvicorn-harness`).

The CLI owns exit codes: every `HarnessError` becomes one line on stderr and
its code; Ctrl-C (and SIGTERM) kill every child session and exit 130.
"""

from __future__ import annotations

import argparse
import atexit
import os
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

PURPOSE = """\
Runs real server releases against reproducible scenarios and tells you which
releases are safe on your Python and which to avoid, and why: for every
scenario it builds one environment per release and Python, starts the real
server on 127.0.0.1, probes it with real HTTP, matches known failure
signatures, checks upstream claims ("fixed in 0.14.0"), and writes results
(JSON) and reports (terminal, HTML, JUnit, Markdown).  Installed, the same
command is `uvicorn-harness`."""

EPILOG = """\
examples:
  # every scenario on its default releases: summary and results file
  {prog} run
  # one scenario on one Python, its default releases
  {prog} run --scenario port-zero-startup --python 3.8
  # the HTML compatibility table of the main job's results
  {prog} report reports/results.json --html reports/index.html

exit codes:
  0    clean: every cell as expected, no claim contradicted
  1    regression: an unexpected cell or a contradicted claim
  2    infrastructure: index unreachable, network failure, a cell could not run
  3    usage: bad option or file, unknown scenario or version, nothing to run
  130  interrupted; what finished is written, marked incomplete

`{prog} COMMAND --help` shows a command's options and an example;
docs/cli.md has them all."""


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


def program_name(argv0: str) -> str:
    """`uvicorn-harness` when started by the console script, else `python -m harness`."""
    name = os.path.basename(argv0)
    return "uvicorn-harness" if name.startswith("uvicorn-harness") else "python -m harness"


def _examples(prog: str, examples: Sequence[str]) -> str:
    lines = [f"  {example.replace('python -m harness', prog, 1)}" for example in examples]
    return ("examples:" if len(lines) > 1 else "example:") + "\n" + "\n".join(lines)


def build_parser(prog: str = "python -m harness") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description=PURPOSE,
        epilog=EPILOG.format(prog=prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, title="commands", metavar="COMMAND"
    )
    for command in COMMANDS:
        sub = commands.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.__doc__,
            epilog=_examples(prog, command.EXAMPLES),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        sub.set_defaults(handler=command.main)
    return parser


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(program_name(sys.argv[0]))
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
