"""The user's own dependency set: what they pin today, and everything else they pin.

A gate tests a candidate release the way the team would deploy it, so it reads
their requirements file, `pyproject.toml` or `uv.lock` for two things:

* the version of the server package they run now (the gate's default baseline)
  and the extras they install it with (`uvicorn[standard]`);
* every other pin (h11, httptools, click, ...), handed to the installer as
  *constraints*: a pin only takes effect if the candidate pulls that package in.

Each reader returns the same `UserDeps` value; a file it cannot read is a
usage error naming the file and line.  The files are someone else's (a
Dependabot branch, a contributor's change), and CI logs are often public: a
message never quotes more of a line than a short prefix (`textsafety.excerpt`),
and a `-r`/`-c` include must stay inside the folder of the file given on the
command line (`-r /proc/self/environ` would otherwise print the environment).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.boundedread import DEPENDENCY_BYTES, FileRefused, read_text
from harness.errors import UsageError
from harness.textsafety import excerpt, visible

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

#: Requirement-file options that take a value on the same line (`-i URL`).
_OPTIONS_WITH_VALUE = frozenset(
    {
        "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host",
        "--no-binary", "--only-binary", "--use-feature", "--config-settings", "--hash",
    }
)  # fmt: skip
_FLAG_OPTIONS = frozenset({"--pre", "--no-index", "--prefer-binary", "--require-hashes"})
#: The user-info part of a URL (`https://user:token@host`): never shown.
_CREDENTIALS = re.compile(r"//[^/@\s]*@")


class DependencyFileError(UsageError):
    """A requirements, pyproject or lock file cannot be read; names file and line."""


@dataclass(frozen=True)
class Pin:
    """One pinned requirement: `name[extras]==version`."""

    name: str
    version: Version
    extras: tuple[str, ...] = ()

    def __str__(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}=={self.version}"


def parse_pin(text: str, what: str) -> Pin:
    """`uvicorn==0.14.0` or `uvicorn[standard]==0.14.0`; anything else is a usage error."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise UsageError(f"{what}: {text!r} is not a requirement ({exc})") from None
    version = exact_version(requirement)
    if version is None or requirement.url or requirement.marker:
        raise UsageError(f"{what}: {text!r} must pin one release exactly, e.g. uvicorn==0.14.0")
    return Pin(canonicalize_name(requirement.name), version, tuple(sorted(requirement.extras)))


def exact_version(requirement: Requirement) -> Version | None:
    """The version a requirement pins with a single `==`/`===`, else None."""
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator not in ("==", "==="):
        return None
    text = specifiers[0].version
    if "*" in text:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class Found:
    """A requirement as read, with where it came from (for messages)."""

    requirement: Requirement
    source: str


@dataclass
class UserDeps:
    """What a dependency file says, independent of its format."""

    source: str
    requirements: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def find(self, package: str) -> list[Found]:
        wanted = canonicalize_name(package)
        return [f for f in self.requirements if canonicalize_name(f.requirement.name) == wanted]

    def pinned(self, package: str) -> Pin | None:
        """The version of `package` the user runs now; None when it is not pinned.

        A requirement that names the package without one exact version (`>=0.13`)
        is an error: guessing the baseline would make the comparison meaningless.
        """
        found = self.find(package)
        if not found:
            return None
        pins = {exact_version(f.requirement) for f in found}
        if None in pins:
            loose = next(f for f in found if exact_version(f.requirement) is None)
            raise DependencyFileError(
                f"{loose.source}: {loose.requirement} does not pin one release of {package}; "
                "give --baseline or read a lock file (--lock uv.lock)"
            )
        versions = sorted(v for v in pins if v is not None)
        if len(versions) > 1:
            where = ", ".join(f"{f.requirement} ({f.source})" for f in found)
            raise DependencyFileError(f"{package} is pinned to several versions: {where}")
        extras = sorted({extra for f in found for extra in f.requirement.extras})
        return Pin(canonicalize_name(package), versions[0], tuple(extras))

    def constraints(self, exclude: str) -> list[str]:
        """Every other requirement with a version, as installer constraints.

        Constraints carry no extras (installers refuse them); a package listed
        twice with the same specifier is given once.
        """
        skipped = canonicalize_name(exclude)
        lines: list[str] = []
        for found in self.requirements:
            requirement = found.requirement
            if canonicalize_name(requirement.name) == skipped or not requirement.specifier:
                continue
            line = f"{canonicalize_name(requirement.name)}{requirement.specifier}"
            if requirement.marker is not None:
                line += f"; {requirement.marker}"
            if line not in lines:
                lines.append(line)
        return lines


# requirements.txt --------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with `\\` continuations joined and comments removed, with line numbers."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw
        if line.startswith("#"):
            line = ""
        elif " #" in line or "\t#" in line:
            cut = min(i for i in (line.find(" #"), line.find("\t#")) if i >= 0)
            line = line[:cut]
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            yield start, joined
    if pending.strip():
        yield start, pending.strip()


def read_requirements(path: Path) -> UserDeps:
    """A pip requirements file, following `-r` and `-c` includes (relative to each
    file, inside the folder of `path`)."""
    deps = UserDeps(source=str(path))
    _read_requirements(path, deps, seen=set(), root=path.resolve().parent)
    return deps


def _read_text(path: Path) -> str:
    try:
        return read_text(path, DEPENDENCY_BYTES)
    except FileRefused as exc:
        raise DependencyFileError(f"{path}: {exc}") from None
    except OSError as exc:
        raise DependencyFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DependencyFileError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _location(text: str) -> str:
    """A path or URL a note names: credentials (`//user:token@`) removed, bounded."""
    return visible(_CREDENTIALS.sub("//", text))[:120]


def _included(path: Path, where: str, option: str, name: str, root: Path) -> Path:
    """The file a `-r`/`-c` line names, refused when it leaves the project folder."""
    target = path.parent / name
    if not target.resolve().is_relative_to(root):
        raise DependencyFileError(
            f"{where}: {option} {visible(name[:100])}: an included file must be inside {root} "
            "(give it on the command line instead)"
        )
    return target


def _read_requirements(path: Path, deps: UserDeps, seen: set[Path], root: Path) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return  # an include cycle: each file once
    seen.add(resolved)
    for number, line in _logical_lines(_read_text(path)):
        where = f"{path}:{number}"
        head, _, rest = line.partition(" ")
        if head.startswith("-") and "=" in head and not rest:
            head, _, rest = head.partition("=")
        rest = rest.strip()
        if head in ("-r", "--requirement", "-c", "--constraint"):
            if not rest:
                raise DependencyFileError(f"{where}: {head} needs a file name")
            _read_requirements(_included(path, where, head, rest, root), deps, seen, root)
            continue
        if head in ("-e", "--editable"):
            deps.notes.append(f"{where}: editable requirement {_location(rest)!r} left out")
            continue
        if head in _OPTIONS_WITH_VALUE or head in _FLAG_OPTIONS:
            if head not in ("--hash", "--require-hashes"):
                deps.notes.append(
                    f"{where}: option {head} ignored (the harness uses your pip/uv configuration)"
                )
            continue
        if head.startswith("-"):
            raise DependencyFileError(f"{where}: unknown option {excerpt(head)!r}")
        requirement_text = _strip_hashes(line)
        first = requirement_text.split(";")[0].strip()
        if first.startswith((".", "/", "~")) or ("://" in first and "@" not in first):
            deps.notes.append(f"{where}: local or URL requirement {_location(first)!r} left out")
            continue
        try:
            requirement = Requirement(requirement_text)
        except InvalidRequirement:
            raise DependencyFileError(
                f"{where}: not a requirement (it starts {excerpt(line)!r})"
            ) from None
        if requirement.url:
            deps.notes.append(f"{where}: direct URL requirement {requirement.name} left out")
            continue
        deps.requirements.append(Found(requirement, where))


def _strip_hashes(line: str) -> str:
    """`pkg==1 --hash=sha256:...` → `pkg==1` (pip-compile --generate-hashes output)."""
    kept = []
    tokens = iter(line.split())
    for token in tokens:
        if token == "--hash":
            next(tokens, None)
            continue
        if token.startswith("--hash="):
            continue
        kept.append(token)
    return " ".join(kept)


# pyproject.toml ----------------------------------------------------------------------


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(_read_text(path))
        return data
    except tomllib.TOMLDecodeError as exc:
        raise DependencyFileError(f"{path}: not valid TOML ({exc})") from None


def read_pyproject(path: Path, groups: Iterable[str] = ()) -> UserDeps:
    """`[project] dependencies`, plus the named optional-dependencies or dependency groups."""
    data = _load_toml(path)
    project = data.get("project")
    if not isinstance(project, dict):
        hint = " (Poetry's [tool.poetry] is not read; use --lock or a requirements file)"
        poetry = isinstance(data.get("tool"), dict) and "poetry" in data["tool"]
        raise DependencyFileError(f"{path}: no [project] table{hint if poetry else ''}")
    deps = UserDeps(source=str(path))
    _add_list(deps, project.get("dependencies", []), f"{path}: project.dependencies")
    optional = project.get("optional-dependencies") or {}
    dependency_groups = data.get("dependency-groups") or {}
    for group in groups:
        if isinstance(optional, dict) and group in optional:
            field_name = f"project.optional-dependencies.{group}"
            _add_list(deps, optional[group], f"{path}: {field_name}")
        elif isinstance(dependency_groups, dict) and group in dependency_groups:
            for name, entries in _group_entries(dependency_groups, group, path, ()):
                _add_list(deps, entries, f"{path}: dependency-groups.{name}")
        else:
            known = sorted({*optional, *dependency_groups}) if isinstance(optional, dict) else []
            raise DependencyFileError(
                f"{path}: no optional dependencies or dependency group {group!r} "
                f"(known: {', '.join(known) or 'none'})"
            )
    return deps


def _group_entries(
    groups: dict[str, Any], name: str, path: Path, chain: tuple[str, ...]
) -> Iterator[tuple[str, list[Any]]]:
    """A dependency group's requirement strings, following `{include-group = ...}` (PEP 735)."""
    if name in chain:
        raise DependencyFileError(f"{path}: dependency-groups.{name} includes itself")
    if name not in groups or not isinstance(groups[name], list):
        raise DependencyFileError(f"{path}: dependency-groups.{name} is not a list")
    plain = []
    for entry in groups[name]:
        if isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
            yield from _group_entries(groups, entry["include-group"], path, (*chain, name))
        else:
            plain.append(entry)
    yield name, plain


def _add_list(deps: UserDeps, entries: Any, where: str) -> None:
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise DependencyFileError(f"{where}: must be a list of requirement strings")
    for position, text in enumerate(entries):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            raise DependencyFileError(
                f"{where}[{position}]: not a requirement (it starts {excerpt(text)!r})"
            ) from None
        if requirement.url:
            deps.notes.append(f"{where}[{position}]: direct URL requirement left out")
            continue
        deps.requirements.append(Found(requirement, f"{where}[{position}]"))


# uv.lock -----------------------------------------------------------------------------

#: Sources whose packages are the user's own project, not dependencies.
_PROJECT_SOURCES = frozenset({"editable", "virtual", "directory", "path"})


def read_uv_lock(path: Path) -> UserDeps:
    """Every locked package as `name==version`; the project itself is left out.

    The extras the project asks of a package (`uvicorn[standard]`) are read
    from the project's own dependency entries.
    """
    data = _load_toml(path)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise DependencyFileError(f"{path}: no [[package]] entries (is this a uv.lock?)")
    deps = UserDeps(source=str(path))
    versions: dict[str, set[str]] = {}
    extras: dict[str, set[str]] = {}
    for position, package in enumerate(packages):
        where = f"{path}: package[{position}]"
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            raise DependencyFileError(f"{where}: needs a name")
        source = package.get("source") or {}
        name = canonicalize_name(package["name"])
        if isinstance(source, dict) and _PROJECT_SOURCES & set(source):
            for dependency in package.get("dependencies") or []:
                if isinstance(dependency, dict) and isinstance(dependency.get("name"), str):
                    wanted = extras.setdefault(canonicalize_name(dependency["name"]), set())
                    wanted.update(str(e) for e in dependency.get("extra") or [])
            continue
        if isinstance(source, dict) and ("git" in source or "url" in source):
            deps.notes.append(f"{where}: {excerpt(name)} comes from git or a URL; left out")
            continue
        version = package.get("version")
        if not isinstance(version, str):
            raise DependencyFileError(f"{where}: {excerpt(name)} has no version")
        versions.setdefault(name, set()).add(version)
    for locked in sorted(versions):
        found = sorted(versions[locked])
        if len(found) > 1:
            deps.notes.append(
                f"{path}: {locked} is locked at several versions ({', '.join(found)}) "
                "for different platforms; not constrained"
            )
            continue
        chosen = sorted(extras.get(locked, ()))
        text = f"{locked}{'[' + ','.join(chosen) + ']' if chosen else ''}=={found[0]}"
        deps.requirements.append(Found(Requirement(text), f"{path}: {locked}"))
    return deps
