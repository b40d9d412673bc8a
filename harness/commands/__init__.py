"""Subcommands of `python -m harness`; each module registers one.

A command module provides `NAME`, `HELP`, `add_arguments(parser)` and
`execute(args, console) -> int`; `COMMANDS` lists them in `--help` order.
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
