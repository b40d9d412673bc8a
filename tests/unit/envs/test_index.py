"""Release discovery: simple API pages, local indexes, cache, offline, unreachable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version

from harness.envs.index import ReleaseIndex, _merge, _parse_html_page, _parse_json_page
from harness.envs.index_config import IndexConfig
from harness.errors import IndexUnreachableError

JSON_PAGE = {
    "files": [
        {"filename": "uvicorn-0.13.4-py3-none-any.whl", "requires-python": ">=3.6",
         "yanked": False, "upload-time": "2021-02-20T10:00:00.000000Z"},
        {"filename": "uvicorn-0.13.4.tar.gz", "requires-python": ">=3.6", "yanked": False},
        {"filename": "uvicorn-0.17.0.tar.gz", "yanked": "broken"},
        {"filename": "uvicorn-0.30.0-py3-none-any.whl", "requires-python": ">=3.8"},
        {"filename": "not-uvicorn-1.0.tar.gz"},
    ]
}  # fmt: skip


def test_json_page() -> None:
    releases = {r.version: r for r in _merge("uvicorn", _parse_json_page(JSON_PAGE))}
    assert set(releases) == {Version("0.13.4"), Version("0.17.0"), Version("0.30.0")}
    assert releases[Version("0.17.0")].yanked
    assert not releases[Version("0.30.0")].supports_python(Version("3.7.16"))
    upload = releases[Version("0.13.4")].upload_time
    assert upload is not None and upload.year == 2021


def test_html_page() -> None:
    html = (
        '<a href="../files/uvicorn-0.14.0-py3-none-any.whl#sha256=ab" '
        'data-requires-python="&gt;=3.6" data-upload-time="2021-06-01T10:00:00Z">'
        "uvicorn-0.14.0-py3-none-any.whl</a>"
        '<a href="uvicorn-0.17.0.tar.gz" data-yanked="">uvicorn-0.17.0.tar.gz</a>'
    )
    releases = {r.version: r for r in _merge("uvicorn", _parse_html_page(html))}
    assert str(releases[Version("0.14.0")].requires_python) == ">=3.6"
    upload = releases[Version("0.14.0")].upload_time
    assert upload is not None and upload.month == 6
    assert releases[Version("0.17.0")].yanked


def _local_index(tmp_path: Path) -> Path:
    project = tmp_path / "simple" / "uvicorn"
    project.mkdir(parents=True)
    (project / "index.html").write_text(
        '<a href="uvicorn-0.13.3-py3-none-any.whl">x</a><a href="uvicorn-0.13.4.tar.gz">y</a>'
    )
    return tmp_path / "simple"


def test_local_file_index_cache_and_offline(tmp_path: Path) -> None:
    config = IndexConfig(index_url=_local_index(tmp_path).as_uri(), origin="test")
    index = ReleaseIndex(config, tmp_path / "cache")
    assert [str(r.version) for r in index.releases("uvicorn")] == ["0.13.3", "0.13.4"]
    cached = list((tmp_path / "cache" / "index").glob("uvicorn--*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["format"] == 1
    # Offline: answered from the cache even when the index is gone.
    for child in (tmp_path / "simple" / "uvicorn").iterdir():
        child.unlink()
    offline = ReleaseIndex(config, tmp_path / "cache", offline=True)
    assert [str(r.version) for r in offline.releases("uvicorn")] == ["0.13.3", "0.13.4"]


def test_offline_without_cache_is_a_clear_error(tmp_path: Path) -> None:
    index = ReleaseIndex(IndexConfig(origin="test"), tmp_path, offline=True)
    with pytest.raises(IndexUnreachableError, match="--offline: no cached release list"):
        index.releases("uvicorn")


def test_unreachable_index_is_a_clear_error(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback is closed here: connection refused at once.
    config = IndexConfig(index_url="http://127.0.0.1:9/simple", origin="test")
    index = ReleaseIndex(config, tmp_path, timeout_s=3)
    with pytest.raises(IndexUnreachableError, match=r"127\.0\.0\.1:9/simple is unreachable"):
        index.releases("uvicorn")


def test_unreachable_index_points_at_a_cached_list(tmp_path: Path) -> None:
    good = IndexConfig(index_url=_local_index(tmp_path).as_uri(), origin="test")
    ReleaseIndex(good, tmp_path / "cache").releases("uvicorn")
    broken = IndexConfig(index_url="http://127.0.0.1:9/simple", origin="test")
    with pytest.raises(IndexUnreachableError, match="a cached release list exists: --offline"):
        ReleaseIndex(broken, tmp_path / "cache", timeout_s=3).releases("uvicorn")
    # Offline, the list cached under the other configuration answers, and says so.
    offline = ReleaseIndex(broken, tmp_path / "cache", offline=True)
    assert [str(r.version) for r in offline.releases("uvicorn")] == ["0.13.3", "0.13.4"]
    assert offline.notes and offline.notes[0].startswith("offline: uvicorn releases as cached")
