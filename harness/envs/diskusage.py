"""How much disk the cache really takes, counting hard-linked files once.

uv installs packages into an environment by hard-linking them from its own
cache when both are on one filesystem (its default `link-mode` on Linux), so
a hundred environments of one package share most of their bytes with each other
and with uv's cache.  Adding up file sizes (`du --apparent-size`, or one
environment at a time) would count those bytes again for every environment.
Here each file is identified by (device, inode): the cache's total counts it
once, an environment's *own* bytes are those no other path links to (what
deleting it would free), and bytes whose links all live outside the cache
(in uv's cache) are reported as shared with the installer.  When the cache and
uv's cache are on different filesystems, or `UV_LINK_MODE=copy`, every
environment holds its own copy, and the figures say so.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.envs.cache import MARKER


@dataclass
class Usage:
    """Bytes on disk (allocated blocks) and files under one folder."""

    files: int = 0
    #: every file counted, as if this folder were alone (`du` of it alone)
    bytes: int = 0
    #: files linked from nowhere else: what deleting the folder frees
    own_bytes: int = 0
    #: files also linked from outside the harness cache (uv's cache)
    installer_shared_bytes: int = 0


@dataclass
class EnvUsage:
    name: str
    requirements: list[str]
    python: str
    backend: str
    usage: Usage


@dataclass
class CacheUsage:
    root: Path
    environments: list[EnvUsage] = field(default_factory=list)
    #: per top-level folder of the cache (envs, cells, index, ...), inodes counted once
    parts: dict[str, Usage] = field(default_factory=dict)
    #: the whole cache, each inode once
    total: Usage = field(default_factory=Usage)

    def to_json(self) -> dict[str, object]:
        def usage(u: Usage) -> dict[str, int]:
            return {
                "files": u.files,
                "bytes": u.bytes,
                "own_bytes": u.own_bytes,
                "installer_shared_bytes": u.installer_shared_bytes,
            }

        return {
            "root": str(self.root),
            "total": usage(self.total),
            "parts": {name: usage(u) for name, u in sorted(self.parts.items())},
            "environments": [
                {
                    "name": env.name,
                    "requirements": env.requirements,
                    "python": env.python,
                    "backend": env.backend,
                    **usage(env.usage),
                }
                for env in self.environments
            ],
        }


def _files(folder: Path) -> Iterator[os.stat_result]:
    """lstat of every regular file below `folder` (symlinks are not followed)."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                stack.append(Path(entry.path))
            elif stat.S_ISREG(info.st_mode):
                yield info


def _blocks(info: os.stat_result) -> int:
    allocated = getattr(info, "st_blocks", None)
    return allocated * 512 if allocated is not None else info.st_size


def measure(cache_dir: Path) -> CacheUsage:
    """Walk the cache once; see the module docstring for what each figure means."""
    result = CacheUsage(cache_dir)
    if not cache_dir.is_dir():
        return result
    # Pass 1: how many links of each inode are inside the cache.
    inside: dict[tuple[int, int], int] = {}
    listing: dict[Path, list[os.stat_result]] = {}
    loose: list[os.stat_result] = []  # files at the top (probe and cost caches)
    for top in sorted(cache_dir.iterdir()):
        if top.is_file() and not top.is_symlink():
            loose.append(top.stat())
        if not top.is_dir():
            continue
        folders = sorted(p for p in top.iterdir() if p.is_dir()) if top.name == "envs" else [top]
        for folder in folders:
            listing[folder] = list(_files(folder))
    if loose:
        listing[cache_dir] = loose
    for files in listing.values():
        for info in files:
            key = (info.st_dev, info.st_ino)
            inside[key] = inside.get(key, 0) + 1
    seen_total: set[tuple[int, int]] = set()
    for folder, files in listing.items():
        part_name = folder.relative_to(cache_dir).parts[0] if folder != cache_dir else "other"
        part = result.parts.setdefault(part_name, Usage())
        usage = Usage()
        for info in files:
            key = (info.st_dev, info.st_ino)
            size = _blocks(info)
            usage.files += 1
            usage.bytes += size
            if info.st_nlink <= 1:
                usage.own_bytes += size
            elif info.st_nlink > inside[key]:
                usage.installer_shared_bytes += size
            if key not in seen_total:
                seen_total.add(key)
                for whole in (part, result.total):
                    whole.files += 1
                    whole.bytes += size
                    if info.st_nlink <= inside[key]:
                        whole.own_bytes += size
                    else:
                        whole.installer_shared_bytes += size
        if part_name == "envs":
            result.environments.append(_describe(folder, usage))
    return result


def _describe(env_dir: Path, usage: Usage) -> EnvUsage:
    try:
        marker = json.loads((env_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = {}
    if not isinstance(marker, dict):
        marker = {}
    return EnvUsage(
        name=env_dir.name,
        requirements=[str(r) for r in marker.get("requirements", [])],
        python=str(marker.get("python_full") or marker.get("python") or "?"),
        backend=str(marker.get("backend") or "?"),
        usage=usage,
    )


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            digits = 0 if unit == "B" or value >= 100 else 1
            return f"{value:.{digits}f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
