"""Where a command writes: checked before any work, and results never lost.

A run can take an hour; finding out at its end that `--json` names a folder,
that `--html` is the results file being read, or that the disk is full throws
that hour away (and a traceback used to end it with exit 1, which a gate reads
as a regression).  So every command that writes checks its outputs and its
cache folder first:

* usage errors (exit 3): an output that is a folder, lies inside a file, cannot
  be written, is the same file as another output, or is one of the inputs;
* infrastructure errors (exit 2): the disk holding an output or the cache has
  less than a few megabytes free, or a file-size limit (`ulimit -f`) is too
  small for a results file.

At the end, a results file that still cannot be written (the disk filled up,
a folder was replaced meanwhile) is written next to the cache instead, and
the command says where (`save_results`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.envs.nospace import NO_SPACE_ERRNOS
from harness.errors import HarnessError, InfrastructureError, UsageError
from harness.results import RunResults, write_results

#: Free space below which the cache cannot take even one environment.
MIN_FREE_CACHE_BYTES = 32 * 1024 * 1024
#: Free space below which an output folder cannot take a results file.
MIN_FREE_OUTPUT_BYTES = 4 * 1024 * 1024
#: A file-size limit (`ulimit -f`) below this could not take a large run's results.
MIN_FILE_SIZE_LIMIT = 64 * 1024 * 1024
#: Where results go when the requested path fails at the end: `<cache>/RESCUE_DIR/`.
RESCUE_DIR = "rescued-results"


def _existing_ancestor(path: Path) -> Path:
    """The nearest folder (or file) on `path`'s way that exists."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(path.anchor or ".")


def _check_space(what: str, folder: Path, minimum: int) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # nothing to tell: the write itself will say
    if free < minimum:
        raise InfrastructureError(
            f"{what}: only {free // 1024} KiB free on the disk holding {folder} "
            f"(at least {minimum // (1024 * 1024)} MiB needed)"
        )


def _check_writable(flag: str, path: Path) -> None:
    """`path` can be created or replaced as a file (or exit 3 naming why not)."""
    where = f"{flag} {path}"
    if path.is_dir():
        raise UsageError(f"{where}: is a folder, not a file")
    if os.path.lexists(path) and not path.is_file():
        raise UsageError(f"{where}: exists and is not a regular file")
    ancestor = _existing_ancestor(path.parent)
    if not ancestor.is_dir():
        raise UsageError(f"{where}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder {ancestor} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{where}: the file is not writable")
    _check_space(where, ancestor, MIN_FREE_OUTPUT_BYTES)


def _same(one: Path, other: Path) -> bool:
    if one.resolve() == other.resolve():
        return True
    try:
        return one.exists() and other.exists() and os.path.samefile(one, other)
    except OSError:
        return False


def _check_file_size_limit() -> None:
    """A process file-size limit small enough to fail the results at the end (exit 2)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no such limit
        return
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY and soft < MIN_FILE_SIZE_LIMIT:
        raise InfrastructureError(
            f"the file-size limit (ulimit -f) allows files of {soft // 1024} KiB; results "
            f"and reports need up to {MIN_FILE_SIZE_LIMIT // (1024 * 1024)} MiB"
        )


def check_outputs(outputs: Mapping[str, Path | None], inputs: Iterable[Path] = ()) -> None:
    """Before any work: every output writable, none the same file as another or
    as an input.  `outputs`: option -> path (None: not asked for)."""
    given = [(flag, path) for flag, path in outputs.items() if path is not None]
    if given:
        _check_file_size_limit()
    for flag, path in given:
        _check_writable(flag, path)
    for index, (flag, path) in enumerate(given):
        for other_flag, other in given[index + 1 :]:
            if _same(path, other):
                raise UsageError(f"{flag} and {other_flag} name the same file: {path}")
        for source in inputs:
            if _same(path, source):
                raise UsageError(f"{flag} {path}: is also an input; it would be overwritten")


def check_cache_dir(path: Path) -> None:
    """The cache folder exists or can be made, is writable, and has room."""
    flag = f"--cache-dir {path}"
    if os.path.lexists(path) and not path.is_dir():
        raise UsageError(f"{flag}: is not a folder")
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise UsageError(f"{flag}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{flag}: {ancestor} is not writable")
    _check_space(flag, ancestor, MIN_FREE_CACHE_BYTES)


def write_problem(what: str, path: Path, exc: OSError) -> HarnessError:
    """An output that failed at the end: out of space is infrastructure (2), the rest usage (3)."""
    message = f"{what}: cannot write {path} ({exc.strerror or exc})"
    return InfrastructureError(message) if exc.errno in NO_SPACE_ERRNOS else UsageError(message)


def save_results(
    path: Path, results: RunResults, cache_dir: Path
) -> tuple[Path, HarnessError | None]:
    """Write the results to `path`, or else next to the cache.

    Returns where they are and, when that is not `path`, the error that the
    command must end with once it has shown everything else.  Raises only when
    neither place can be written (the error names both).
    """
    try:
        write_results(path, results)
        return path, None
    except OSError as exc:
        problem = write_problem("results", path, exc)
    rescue = cache_dir / RESCUE_DIR / f"{results.run_id or 'results'}.json"
    try:
        write_results(rescue, results)
    except OSError as exc:
        raise type(problem)(f"{problem}; nor {rescue} ({exc.strerror or exc})") from None
    return rescue, type(problem)(f"{problem}; the results were written to {rescue} instead")


#: The options through which commands name the files they write.
OUTPUT_OPTIONS = ("json", "html", "junit", "markdown")


def check_command_outputs(args: object, inputs: Iterable[Path | None] = ()) -> None:
    """`check_outputs` over whichever of `OUTPUT_OPTIONS` the command has."""
    outputs = {f"--{name}": getattr(args, name, None) for name in OUTPUT_OPTIONS}
    check_outputs(outputs, [path for path in inputs if path is not None])
