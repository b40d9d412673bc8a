"""Release discovery through the package index's simple API (PEP 503/691/700).

Every configured index is asked (like pip does) and the answers are merged.
The merged list is cached under the harness cache with a short lifetime, and
`offline=True` answers from the cache alone, so a run can work with no network.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from harness import httpx_import
from harness.atomic import write_text_atomic
from harness.envs.index_config import IndexConfig
from harness.errors import IndexUnreachableError

INDEX_CACHE_TTL_S = 15 * 60
_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class Release:
    """One released version of a package, as the index describes it."""

    version: Version
    requires_python: SpecifierSet | None = None
    yanked: bool = False
    upload_time: datetime | None = None

    def supports_python(self, python_version: Version) -> bool:
        if self.requires_python is None:
            return True
        return self.requires_python.contains(python_version, prereleases=True)


@dataclass
class _FileEntry:
    filename: str
    requires_python: str | None
    yanked: bool
    upload_time: str | None


class _AnchorParser(HTMLParser):
    """Collect file entries from a PEP 503 HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[_FileEntry] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._attrs is None:
            return
        href = self._attrs.get("href") or ""
        filename = urllib.parse.unquote(href.split("#", 1)[0].rsplit("/", 1)[-1])
        if not filename:
            filename = "".join(self._text).strip()
        self.entries.append(
            _FileEntry(
                filename=filename,
                requires_python=self._attrs.get("data-requires-python"),
                yanked="data-yanked" in self._attrs,
                # Not in PEP 503, but some indexes and mirrors add it; PEP 700 puts it in JSON.
                upload_time=self._attrs.get("data-upload-time"),
            )
        )
        self._attrs = None


def _version_of(filename: str, project: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return version if canonicalize_name(name) == project else None


def _parse_json_page(data: dict[str, Any]) -> list[_FileEntry]:
    entries = []
    for item in data.get("files", []):
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        entries.append(
            _FileEntry(
                filename=item["filename"],
                requires_python=item.get("requires-python"),
                yanked=bool(item.get("yanked")),
                upload_time=item.get("upload-time"),
            )
        )
    return entries


def _parse_html_page(text: str) -> list[_FileEntry]:
    parser = _AnchorParser()
    parser.feed(text)
    return parser.entries


def _ssl_verify() -> ssl.SSLContext | bool:
    """The user's CA bundle (as pip would use it), else httpx's default."""
    for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return ssl.create_default_context(cafile=value)
    return True


def _fetch_page(index_url: str, project: str, timeout_s: float) -> list[_FileEntry]:
    """The file entries of one project on one index; [] when the index lacks it."""
    url = f"{index_url.rstrip('/')}/{project}/"
    if url.startswith("file:"):
        return _read_local_page(url)
    httpx_import.load()
    import httpx  # only when the cached release list is stale (see httpx_import)

    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=True, verify=_ssl_verify()) as client:
            response = client.get(url, headers={"Accept": _ACCEPT})
    except httpx.HTTPError as exc:
        raise IndexUnreachableError(
            f"package index {index_url} is unreachable: {type(exc).__name__}: {exc}"
        ) from None
    if response.status_code == 404:
        return []
    if response.status_code >= 400:
        raise IndexUnreachableError(
            f"package index {index_url} answered HTTP {response.status_code} for {project}"
        )
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            return _parse_json_page(response.json())
        except ValueError:
            raise IndexUnreachableError(f"package index {index_url} sent invalid JSON") from None
    return _parse_html_page(response.text)


def _read_local_page(url: str) -> list[_FileEntry]:
    import urllib.request  # rarely needed: file:// indexes

    path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    page = path / "index.html"
    if page.is_file():
        return _parse_html_page(page.read_text(encoding="utf-8", errors="replace"))
    if path.is_dir():
        return [_FileEntry(child.name, None, False, None) for child in path.iterdir()]
    return []


def _merge(project: str, entries: Iterable[_FileEntry]) -> list[Release]:
    by_version: dict[Version, list[_FileEntry]] = {}
    for entry in entries:
        version = _version_of(entry.filename, project)
        if version is not None:
            by_version.setdefault(version, []).append(entry)
    releases = []
    for version, files in by_version.items():
        requires = next((f.requires_python for f in files if f.requires_python), None)
        specifier: SpecifierSet | None = None
        if requires:
            try:
                specifier = SpecifierSet(requires)
            except InvalidSpecifier:
                specifier = None
        times = sorted(f.upload_time for f in files if f.upload_time)
        upload = _parse_time(times[0]) if times else None
        releases.append(
            Release(
                version=version,
                requires_python=specifier,
                yanked=all(f.yanked for f in files),
                upload_time=upload,
            )
        )
    return sorted(releases, key=lambda release: release.version)


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


class ReleaseIndex:
    """Answers "which releases of P exist", from the index or the cache."""

    def __init__(
        self,
        config: IndexConfig,
        cache_dir: Path,
        offline: bool = False,
        ttl_s: float = INDEX_CACHE_TTL_S,
        timeout_s: float = 15.0,
    ) -> None:
        self.config = config
        self.cache_dir = cache_dir / "index"
        self.offline = offline
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._memo: dict[str, list[Release]] = {}
        #: What the user should know about where the answers came from.
        self.notes: list[str] = []

    def _cache_path(self, project: str) -> Path:
        key = re.sub(r"[^A-Za-z0-9]+", "_", "|".join(self.config.all_index_urls))[-80:]
        return self.cache_dir / f"{project}--{key}.json"

    def releases(self, package: str) -> list[Release]:
        """All releases, oldest first (yanked and pre-releases included, flagged)."""
        project = canonicalize_name(package)
        if project in self._memo:
            return self._memo[project]
        cached = self._read_cache(project)
        if cached is not None and (self.offline or time.time() - cached[0] < self.ttl_s):
            releases = cached[1]
            if self.offline:
                age = _age(time.time() - cached[0])
                self.notes.append(f"offline: {project} releases as cached {age} ago")
        elif self.offline:
            raise IndexUnreachableError(
                f"--offline: no cached release list for {project}; run once online first"
            )
        else:
            entries: list[_FileEntry] = []
            try:
                for url in self.config.all_index_urls:
                    entries.extend(_fetch_page(url, project, self.timeout_s))
            except IndexUnreachableError as exc:
                if cached is not None or self._any_cached(project):
                    raise IndexUnreachableError(
                        f"{exc} (a cached release list exists: --offline uses it)"
                    ) from None
                raise
            for link in self.config.find_links:
                entries.extend(_find_links_entries(link))
            releases = _merge(project, entries)
            self._write_cache(project, releases)
        self._memo[project] = releases
        return releases

    def _any_cached(self, project: str) -> bool:
        return any(self.cache_dir.glob(f"{project}--*.json"))

    def _read_cache(self, project: str) -> tuple[float, list[Release]] | None:
        path = self._cache_path(project)
        if self.offline and not path.exists():
            # Offline, any cached list for the project beats none (e.g. the index
            # configuration changed since it was cached); the newest one wins.
            others = sorted(
                self.cache_dir.glob(f"{project}--*.json"), key=lambda p: p.stat().st_mtime
            )
            if others:
                path = others[-1]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != _CACHE_FORMAT:
                return None
            releases = [
                Release(
                    version=Version(item["version"]),
                    requires_python=SpecifierSet(item["requires_python"])
                    if item.get("requires_python")
                    else None,
                    yanked=bool(item.get("yanked")),
                    upload_time=_parse_time(item["upload_time"])
                    if item.get("upload_time")
                    else None,
                )
                for item in data["releases"]
            ]
            return float(data["fetched_at"]), releases
        except (OSError, ValueError, KeyError, TypeError, InvalidSpecifier):
            return None

    def _write_cache(self, project: str, releases: list[Release]) -> None:
        payload = {
            "format": _CACHE_FORMAT,
            "fetched_at": time.time(),
            "indexes": list(self.config.all_index_urls),
            "releases": [
                {
                    "version": str(release.version),
                    "requires_python": str(release.requires_python)
                    if release.requires_python is not None
                    else None,
                    "yanked": release.yanked,
                    "upload_time": release.upload_time.isoformat() if release.upload_time else None,
                }
                for release in releases
            ],
        }
        write_text_atomic(self._cache_path(project), json.dumps(payload, indent=1))


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _find_links_entries(link: str) -> list[_FileEntry]:
    if link.startswith(("http://", "https://")):
        return []  # remote find-links pages are left to the installer
    import urllib.request  # only when the cached release list is stale

    path = (
        Path(urllib.request.url2pathname(urllib.parse.urlparse(link).path))
        if link.startswith("file:")
        else Path(link)
    )
    if not path.is_dir():
        return []
    return [_FileEntry(child.name, None, False, None) for child in path.iterdir()]


#: The TLS verification pip would use, for other downloads from the same indexes.
ssl_verify = _ssl_verify
