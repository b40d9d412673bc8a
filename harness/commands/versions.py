"""`python -m harness versions`: the releases the configured index lists, and a selector's pick.

What every other command builds on, shown on its own: which releases exist
(yanked and pre-releases flagged), what each requires of Python, when it was
uploaded, and which of them a `--versions` selector picks.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from harness.commands.common import add_harness_settings, harness_settings, notifier
from harness.engine.pipeline import Harness
from harness.errors import EXIT_CLEAN, UsageError
from harness.plan.versions import resolve_selector
from harness.textsafety import escape

NAME = "versions"
HELP = "list a package's releases from the configured index"
EXAMPLES = ("python -m harness versions uvicorn --versions latest-3",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("package", nargs="?", default="uvicorn", help="default: %(default)s")
    parser.add_argument(
        "--versions",
        metavar="SELECTOR",
        help="show only what this selector picks, e.g. minors | '>=0.12,<0.15' | latest-5",
    )
    parser.add_argument(
        "--python",
        metavar="X.Y|PATH",
        help="mark the releases this interpreter cannot install (requires-python)",
    )
    add_harness_settings(parser)


def main(args: argparse.Namespace, console: Console) -> int:
    harness = Harness(harness_settings(args), notifier(console))
    releases = harness.index.releases(args.package)
    shown = releases
    if args.versions:
        picked = set(resolve_selector(args.versions, releases, args.package, (), args.pre))
        shown = [release for release in releases if release.version in picked]
    python = None
    if args.python:
        request = harness.finder.resolve(args.python)
        if request.interpreter is None:
            raise UsageError(f"--python {args.python}: {request.reason}")
        python = request.interpreter.version
    table = Table(title=f"{args.package} on {harness.index_config.describe()}")
    for column in ("version", "requires-python", "uploaded", "notes"):
        table.add_column(column)
    for release in shown:
        notes = []
        if release.yanked:
            notes.append("yanked")
        if release.version.is_prerelease:
            notes.append("pre-release")
        if python is not None and not release.supports_python(python):
            notes.append(f"skip on Python {python}")
        uploaded = release.upload_time.strftime("%Y-%m-%d") if release.upload_time else "?"
        table.add_row(
            str(release.version),
            escape(str(release.requires_python or "")),
            uploaded,
            ", ".join(notes),
        )
    console.print(table)
    for note in harness.index.notes:
        console.print(f"index: {escape(note)}", highlight=False)
    console.print(f"{len(shown)} of {len(releases)} release(s)", highlight=False)
    return EXIT_CLEAN
