"""pip and uv configuration are both honoured; environment beats files, uv beats pip."""

from __future__ import annotations

from pathlib import Path

from harness.envs.index_config import PYPI_SIMPLE, discover_index_config


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg"), **extra}


def test_default_is_pypi(tmp_path: Path) -> None:
    config = discover_index_config(_env(tmp_path, PIP_CONFIG_FILE="/dev/null"), tmp_path)
    assert config.index_url == PYPI_SIMPLE
    assert config.origin == "default"


def test_pip_environment(tmp_path: Path) -> None:
    env = _env(tmp_path, PIP_INDEX_URL="https://mirror.example/simple/",
               PIP_EXTRA_INDEX_URL="https://a.example/simple https://b.example/simple",
               PIP_CONFIG_FILE="/dev/null")  # fmt: skip
    config = discover_index_config(env, tmp_path)
    assert config.index_url == "https://mirror.example/simple"
    assert config.extra_index_urls == ("https://a.example/simple", "https://b.example/simple")
    # pip merges every index; uv must be told to do the same.
    assert "unsafe-best-match" in config.uv_args()


def test_pip_config_file(tmp_path: Path) -> None:
    pip_conf = tmp_path / "cfg" / "pip" / "pip.conf"
    pip_conf.parent.mkdir(parents=True)
    pip_conf.write_text("[global]\nindex-url = https://files.example/simple\nfind-links = /w\n")
    config = discover_index_config(_env(tmp_path), tmp_path)
    assert config.index_url == "https://files.example/simple"
    assert config.find_links == ("/w",)
    assert config.origin == "pip configuration file"


def test_uv_beats_pip(tmp_path: Path) -> None:
    uv_toml = tmp_path / "cfg" / "uv" / "uv.toml"
    uv_toml.parent.mkdir(parents=True)
    uv_toml.write_text('[[index]]\nurl = "https://uv.example/simple"\ndefault = true\n')
    env = _env(tmp_path, PIP_CONFIG_FILE="/dev/null")
    assert discover_index_config(env, tmp_path).index_url == "https://uv.example/simple"
    env["UV_INDEX_URL"] = "https://uvenv.example/simple"
    env["PIP_INDEX_URL"] = "https://pipenv.example/simple"
    config = discover_index_config(env, tmp_path)
    assert config.index_url == "https://uvenv.example/simple"
    assert config.origin.startswith("uv")


def test_uv_named_indexes(tmp_path: Path) -> None:
    env = _env(tmp_path, UV_DEFAULT_INDEX="corp=https://corp.example/simple",
               UV_INDEX="extra=https://extra.example/simple https://plain.example/simple",
               PIP_CONFIG_FILE="/dev/null")  # fmt: skip
    config = discover_index_config(env, tmp_path)
    assert config.index_url == "https://corp.example/simple"
    assert config.extra_index_urls == (
        "https://extra.example/simple",
        "https://plain.example/simple",
    )
