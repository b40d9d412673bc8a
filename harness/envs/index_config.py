"""The user's package index configuration, read the way pip and uv read it.

The harness never hard-codes an index.  It reads uv's and pip's environment
variables and configuration files once, and hands the result both to its own
version discovery and, explicitly, to whichever installer builds environments,
so uv honours a pip-only configuration and pip honours a uv-only one.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPI_SIMPLE = "https://pypi.org/simple"


@dataclass(frozen=True)
class IndexConfig:
    """Where packages come from; `origin` says which configuration supplied it."""

    index_url: str = PYPI_SIMPLE
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    origin: str = "default"

    @property
    def all_index_urls(self) -> tuple[str, ...]:
        return (self.index_url, *self.extra_index_urls)

    def uv_args(self) -> list[str]:
        """Arguments that make `uv pip install` use exactly this configuration.

        pip merges candidates from every index; uv by default stops at the first
        index that has the package, so a pip-derived configuration asks uv for
        pip's behaviour explicitly.
        """
        args = ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.extra_index_urls and not self.origin.startswith("uv"):
            args += ["--index-strategy", "unsafe-best-match"]
        return args

    def pip_args(self) -> list[str]:
        args = ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        return args

    def describe(self) -> str:
        extras = f" (+{len(self.extra_index_urls)} extra)" if self.extra_index_urls else ""
        return f"{self.index_url}{extras} from {self.origin}"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split() if part)


def _index_url(entry: str) -> str:
    """uv's `UV_INDEX`/`UV_DEFAULT_INDEX` entries may be `name=url`: the URL."""
    name, sep, url = entry.partition("=")
    return url if sep and "://" not in name and "/" not in name else entry


def _pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's configuration files in the order pip reads them (later wins)."""
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    home = Path(env.get("HOME", str(Path.home())))
    xdg_config = Path(env.get("XDG_CONFIG_HOME", str(home / ".config")))
    files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf")]
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        if appdata:
            files.append(Path(appdata) / "pip" / "pip.ini")
        files.append(home / "pip" / "pip.ini")
    elif sys.platform == "darwin":
        files.append(home / "Library" / "Application Support" / "pip" / "pip.conf")
    files += [home / ".pip" / "pip.conf", xdg_config / "pip" / "pip.conf"]
    if env.get("VIRTUAL_ENV"):
        files.append(
            Path(env["VIRTUAL_ENV"]) / ("pip.ini" if sys.platform == "win32" else "pip.conf")
        )
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    return files


def _read_pip_files(env: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for path in _pip_config_files(env):
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install", "download"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    values[key] = value
    return values


def _uv_config_files(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """uv's configuration files, most specific first."""
    if env.get("UV_NO_CONFIG"):
        return []
    if env.get("UV_CONFIG_FILE"):
        return [Path(env["UV_CONFIG_FILE"])]
    home = Path(env.get("HOME", str(Path.home())))
    xdg_config = Path(env.get("XDG_CONFIG_HOME", str(home / ".config")))
    files = [cwd / "uv.toml", xdg_config / "uv" / "uv.toml"]
    if sys.platform == "win32" and env.get("APPDATA"):
        files.append(Path(env["APPDATA"]) / "uv" / "uv.toml")
    files.append(Path("/etc/uv/uv.toml"))
    return files


def _read_uv_files(env: Mapping[str, str], cwd: Path) -> dict[str, Any]:
    for path in _uv_config_files(env, cwd):
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        values: dict[str, Any] = {}
        pip_section = data.get("pip", {}) if isinstance(data.get("pip"), dict) else {}
        for source in (pip_section, data):
            for key in ("index-url", "extra-index-url", "find-links"):
                if key in source and key not in values:
                    values[key] = source[key]
        indexes = data.get("index")
        if isinstance(indexes, list):
            for entry in indexes:
                if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                    continue
                if entry.get("default"):
                    values.setdefault("index-url", entry["url"])
                else:
                    values.setdefault("extra-index-url", [])
                    if isinstance(values["extra-index-url"], list):
                        values["extra-index-url"].append(entry["url"])
        return values
    return {}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


def discover_index_config(
    env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> IndexConfig:
    """Merge uv and pip settings; environment beats files, uv beats pip."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    uv_files = _read_uv_files(env, cwd)
    pip_files = _read_pip_files(env)

    index_candidates: list[tuple[str, str | None]] = [
        ("uv environment (UV_DEFAULT_INDEX)", _index_url(env.get("UV_DEFAULT_INDEX", ""))),
        ("uv environment (UV_INDEX_URL)", env.get("UV_INDEX_URL")),
        ("pip environment (PIP_INDEX_URL)", env.get("PIP_INDEX_URL")),
        ("uv configuration file", uv_files.get("index-url")),
        ("pip configuration file", pip_files.get("index-url")),
    ]
    index_url, origin = PYPI_SIMPLE, "default"
    for name, value in index_candidates:
        if value:
            index_url, origin = str(value).strip(), name
            break

    extra_candidates: list[tuple[str, tuple[str, ...]]] = [
        ("uv environment (UV_INDEX)", tuple(map(_index_url, _split(env.get("UV_INDEX", ""))))),
        ("uv environment (UV_EXTRA_INDEX_URL)", _split(env.get("UV_EXTRA_INDEX_URL", ""))),
        ("pip environment (PIP_EXTRA_INDEX_URL)", _split(env.get("PIP_EXTRA_INDEX_URL", ""))),
        ("uv configuration file", _as_tuple(uv_files.get("extra-index-url"))),
        ("pip configuration file", _as_tuple(pip_files.get("extra-index-url"))),
    ]
    extras: tuple[str, ...] = ()
    for name, values in extra_candidates:
        if values:
            extras = values
            if origin == "default":
                origin = name
            break

    link_candidates = [
        _split(env.get("UV_FIND_LINKS", "").replace(",", " ")),
        _split(env.get("PIP_FIND_LINKS", "")),
        _as_tuple(uv_files.get("find-links")),
        _as_tuple(pip_files.get("find-links")),
    ]
    find_links: tuple[str, ...] = next((links for links in link_candidates if links), ())
    # uv-specific names make the whole configuration "uv"-flavoured: uv semantics apply.
    return IndexConfig(
        index_url=index_url.rstrip("/"),
        extra_index_urls=tuple(url.rstrip("/") for url in extras),
        find_links=find_links,
        origin=origin,
    )
