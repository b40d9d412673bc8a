"""`python -m harness cache`: the disk the cache uses, per environment and in total.

Hard-linked files (uv links packages from its own cache into every
environment) are counted once; see `harness.envs.diskusage` for what each figure
means.  `--json PATH` (or `-`) writes the same figures for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from harness.atomic import write_text_atomic
from harness.engine.pipeline import default_cache_dir
from harness.envs.backends import find_uv
from harness.envs.diskusage import CacheUsage, human, measure
from harness.errors import EXIT_CLEAN
from harness.textsafety import escape

NAME = "cache"
HELP = "show the disk the cache uses (per environment, hard links counted once)"
EXAMPLES = ("python -m harness cache",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the cache to measure (default: $UVICORN_HARNESS_CACHE or the user cache folder)",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write the figures as JSON to PATH ('-': stdout)"
    )


def uv_cache_dir() -> Path | None:
    """Where uv keeps its cache (what the environments' files are linked from)."""
    if os.environ.get("UV_CACHE_DIR"):
        return Path(os.environ["UV_CACHE_DIR"])
    uv = find_uv()
    if uv is None:
        return None
    try:
        done = subprocess.run(
            [str(uv), "cache", "dir"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    return Path(text) if done.returncode == 0 and text else None


def _same_filesystem(a: Path, b: Path) -> str:
    try:
        return "yes" if a.stat().st_dev == b.stat().st_dev else "no"
    except OSError:
        return "unknown"


def main(args: argparse.Namespace, console: Console) -> int:
    root = (args.cache_dir or default_cache_dir()).expanduser().resolve()
    usage = measure(root)
    if args.json:
        text = json.dumps(usage.to_json(), indent=1)
        if args.json == "-":
            sys.stdout.write(text + "\n")
            return EXIT_CLEAN
        write_text_atomic(Path(args.json), text + "\n")
    render(console, usage)
    if args.json:
        console.print(f"json: {escape(args.json)}", highlight=False)
    return EXIT_CLEAN


def render(console: Console, usage: CacheUsage) -> None:
    root = escape(str(usage.root))
    if not usage.total.files:
        console.print(f"cache {root}: empty or missing", highlight=False)
        return
    total = usage.total
    console.print(
        f"cache {root}: [bold]{human(total.bytes)}[/] on disk in {total.files:,} files "
        "(each hard-linked file counted once)",
        highlight=False,
    )
    if total.installer_shared_bytes:
        console.print(
            f"  {human(total.installer_shared_bytes)} of it are files also linked from the "
            f"installer's cache: deleting this cache frees {human(total.own_bytes)}",
            highlight=False,
        )
    for name, part in sorted(usage.parts.items()):
        console.print(f"  {name}: {human(part.bytes)} in {part.files:,} files", highlight=False)
    envs = usage.environments
    if envs:
        table = Table(title=f"{len(envs)} environment(s)", box=box.SIMPLE_HEAD, pad_edge=False)
        columns = ("environment", "python", "backend", "files", "alone", "own", "shared with uv")
        table.add_column(columns[0], no_wrap=True, min_width=len("uvicorn==0.13.4"))
        for column in columns[1:]:
            table.add_column(column, justify="right", no_wrap=column == "backend")
        for env in sorted(envs, key=lambda e: e.name):
            table.add_row(
                escape(" ".join(env.requirements) or env.name),
                env.python,
                env.backend,
                f"{env.usage.files:,}",
                human(env.usage.bytes),
                human(env.usage.own_bytes),
                human(env.usage.installer_shared_bytes),
            )
        console.print(table)
        alone = sum(env.usage.bytes for env in envs)
        together = usage.parts["envs"].bytes if "envs" in usage.parts else 0
        console.print(
            f"environments: {human(alone)} if each had its own files, {human(together)} "
            f"on disk together ({human(alone // len(envs))} per environment alone, "
            f"{human(together // len(envs))} on average together)",
            highlight=False,
        )
    uv_cache = uv_cache_dir()
    if uv_cache is not None:
        mode = os.environ.get("UV_LINK_MODE") or "not set: uv hard-links on Linux, clones on macOS"
        console.print(
            f"uv cache: {escape(str(uv_cache))} (same filesystem as this cache: "
            f"{_same_filesystem(uv_cache, usage.root)}); UV_LINK_MODE {mode}. On different "
            "filesystems uv copies every file into every environment.",
            highlight=False,
        )
