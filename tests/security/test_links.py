"""Item 1: no link but a plain http(s) URL is ever clickable in a report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from tests.security.conftest import (
    HostileRun,
    cell,
    results,
    scenario_text,
    write_json,
)

HOSTILE_LINKS = [
    "javascript:alert(1)",
    "  JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "JAVASCRIPT:alert(document.domain)",
    "\x00javascript:alert(1)",
    "javascript\n:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    'https://example.com/x" onmouseover="alert(1)',
    "https://example.com/>)[x](javascript:alert(1)",
    "//evil.example/x",
    "https:/\\evil.example",
    "http://",
    "file:///etc/passwd",
]
BODY = '\n[[expect.http]]\npath = "/"\nstatus = 200\n'


@pytest.mark.parametrize("link", HOSTILE_LINKS)
@pytest.mark.parametrize("field", ["issue", "fix", "links"])
def test_the_loader_refuses_a_link_that_is_not_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str, field: str
) -> None:
    text = scenario_text("s", "hello:app", BODY) + f"\n[upstream]\n{field} = {_toml(link, field)}\n"
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "s.toml").write_text(text, encoding="utf-8")
    code = main(["list", "--scenarios-dir", str(folder)])
    err = capsys.readouterr().err
    assert code == 3
    assert len(err.strip().splitlines()) == 1 and f"s.toml: upstream.{field}" in err, err


def _toml(link: str, field: str) -> str:
    """A TOML basic string for `link` (every character escaped as TOML wants)."""
    body = "".join(
        f"\\u{ord(char):04x}" if ord(char) < 0x20 or char in '"\\' else char for char in link
    )
    return f'["{body}"]' if field == "links" else f'"{body}"'


@pytest.mark.parametrize(
    "link", ["https://github.com/Kludex/uvicorn/pull/1", "HTTP://x.test/a?b=c#d"]
)
def test_plain_http_links_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str
) -> None:
    text = scenario_text("s", "hello:app", BODY) + f'\n[upstream]\nissue = "{link}"\n'
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "s.toml").write_text(text, encoding="utf-8")
    assert main(["list", "--scenarios-dir", str(folder)]) == 0
    assert link in capsys.readouterr().out


def test_report_drops_hostile_links_from_results_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    upstream = {"issue": HOSTILE_LINKS[1], "fix": HOSTILE_LINKS[6], "links": HOSTILE_LINKS}
    info = {"title": "hostile", "upstream": upstream}
    path = write_json(tmp_path / "r.json", results([cell()], scenarios={"hostile": info}))
    html, markdown = tmp_path / "r.html", tmp_path / "r.md"
    code = main(["report", str(path), "--html", str(html), "--markdown", str(markdown)])
    out = capsys.readouterr().out
    assert code == 1
    assert "upstream issue dropped: not a plain http(s) link" in out
    hrefs = re.findall(r'href="([^"]*)"', html.read_text(encoding="utf-8"))
    assert hrefs and all(h.startswith(("#", "http://", "https://")) for h in hrefs), hrefs
    assert not re.search(r"\]\(<?\s*(?!https?://)", markdown.read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_the_reports_of_a_real_run_link_only_http(hostile_run: HostileRun) -> None:
    html = hostile_run.outputs["index.html"].read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert all(h.startswith(("#", "http://", "https://")) for h in hrefs), hrefs
