"""Subcommands of `python -m harness`: thin, each parses arguments and drives the stages.

`run`, `bisect`, `gate`, `report`, `plan`, `list` (listing), `ranges`, `versions`,
`cache`; `common` holds shared arguments, `conclusion` the common tail of
the commands that run cells (judge -> results -> write -> show), and
`bisect_probes` the bisect command's oracle.
A command module provides `NAME`, `HELP`, `add_arguments(parser)` and
`main(args, console) -> int`; `COMMANDS` lists them in `--help` order.
"""

from __future__ import annotations

from types import ModuleType

from harness.commands import (
    bisect,
    cache,
    card,
    gate,
    listing,
    plan,
    ranges,
    report,
    repro,
    run,
    versions,
)

COMMANDS: tuple[ModuleType, ...] = (
    run,
    bisect,
    gate,
    report,
    plan,
    listing,
    ranges,
    versions,
    cache,
    card,
    repro,
)
