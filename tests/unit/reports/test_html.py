"""The HTML page: the overview first, evidence as script-safe JSON, escaped text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from harness.reports.html import LEGEND, render_html, script_json
from harness.reports.html_views import MAX_OVERVIEW_SPANS
from harness.reports.links import link_label, upstream_links
from harness.reports.overview import cell_anchor
from tests.unit.report_data import all_cells, cell, evidence_of, report_of, results

HOSTILE = "<script>alert(1)</script></pre><b id='x'>bold</b> & </details>"


class _Page(HTMLParser):
    """What a browser would build: scripts, element ids, and the order of sections."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.ids: list[str] = []
        self.opened: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.scripts += tag == "script"
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "details" and "open" in a:
            self.opened.append(a.get("id") or a.get("class") or "")


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_the_overview_comes_first_with_the_legend_open() -> None:
    page = render_html(report_of(results(all_cells())))
    parsed = _parse(page)
    sections = [i for i in parsed.ids if i in ("overview", "filters") or i.startswith("scenario-")]
    assert sections[:2] == ["overview", "filters"]
    assert page.index('<section id="overview"') < page.index('<section class="scenario"')
    assert "legend" in parsed.opened
    assert not [i for i in parsed.opened if i.startswith("cell-")]
    assert 'class="grid-box"' in page and '<details class="grid-box" open' not in page
    for mark, _ in LEGEND:
        assert f"badge g-{mark}" in page or f"badge o-{mark}" in page


def test_overview_rows_hold_merged_ranges_linked_to_evidence_and_issue() -> None:
    report = report_of(results(all_cells()))
    page = render_html(report)
    row = re.search(r'<tr data-scenario="port-zero-startup".*?</tr>', page, re.S)
    assert row is not None
    text = re.sub(r"<[^>]+>", "", row.group(0))
    assert "✓ 0.9.0–0.13.3" in text and "✗ 0.13.4–0.13.10" in text and "✓ 0.14.0" in text
    assert 'href="#scenario-port-zero-startup"' in row.group(0)
    evidence = evidence_of(page)
    first_bad = next(
        c for c in report.cells if c.first.version == "0.13.4" and c.first.python == "3.8"
    )
    assert f'href="#{cell_anchor(first_bad)}"' in row.group(0)
    assert cell_anchor(first_bad) in evidence
    assert f'<td class="cell o-known-failure" id="{cell_anchor(first_bad)}"' in page
    assert 'href="https://github.com/Kludex/uvicorn/issues/974" rel="noreferrer">#974<' in page
    assert '<section class="scenario" id="scenario-port-zero-startup"' in page


def test_gaps_say_not_run_with_the_command_or_not_supported() -> None:
    cells = [cell(v, "3.8") for v in ("0.13.3", "0.13.4", "0.14.0")] + [cell("0.15.0", "3.11")]
    run = results(cells)
    run.requires_python = {"uvicorn": {"0.15.0": ">=3.9"}}
    page = render_html(report_of(run))
    assert "python -m harness run --scenario port-zero-startup --python 3.11 " in page
    assert "--versions &#39;&gt;=0.13.3,&lt;=0.14.0&#39;" in page
    assert 'class="gap g-not-supported"' in page and "requires Python &gt;=3.9" in page
    assert 'class="gap g-not-run" data-col="1" title="not run; to run it: ' in page
    verdicts = re.search(r'<ul class="verdicts".*?</ul>', page, re.S)
    assert verdicts is not None
    assert "0.14.0" in verdicts.group(
        0
    ) and "0.15.0 and newer require another Python" in verdicts.group(0)


def test_captured_output_travels_as_script_safe_json() -> None:
    bad = cell("0.13.4", "3.8", "new-failure", expected=False, signature=None,
               fingerprint=HOSTILE, reason=HOSTILE, output_tail=HOSTILE)  # fmt: skip
    run = results([bad, cell("0.14.0")])
    run.scenarios = {"port-zero-startup": {"title": HOSTILE, "upstream": {"issue": HOSTILE}}}
    page = render_html(report_of(run, scenarios={}))
    parsed = _parse(page)
    assert parsed.scripts == 2  # the evidence JSON and ours
    assert "x" not in parsed.ids
    assert "<script>alert(1)" not in page
    block = re.search(r'id="evidence-data">(.*?)</script>', page, re.S)
    assert block is not None and "<" not in block.group(1)
    (shown,) = [e for e in evidence_of(page).values() if "0.13.4" in e["label"]]
    (observation,) = shown["observations"]
    assert observation["tail"] == observation["fingerprint"] == HOSTILE
    assert script_json({"a": "</script><!--"}) == '{"a":"\\u003c/script\\u003e\\u003c!--"}'


def test_the_page_is_self_contained() -> None:
    page = render_html(report_of(results(all_cells())))
    assert not re.search(r"<(?:link|img|iframe)\b|\bsrc=|@import|url\(", page)
    assert "</html>" in page


def test_link_labels_carry_their_numbers() -> None:
    assert link_label("https://github.com/Kludex/uvicorn/issues/974") == ("issue #974", "#974")
    assert link_label("https://github.com/Kludex/uvicorn/pull/975/files") == ("PR #975", "#975")
    assert link_label("https://gitlab.com/a/b/-/merge_requests/3")[0] == "MR #3"
    assert link_label("https://example.org/docs/page") == ("example.org/page",) * 2
    links = upstream_links(
        None, "https://github.com/o/r/pull/2", ("https://github.com/o/r/issues/1",)
    )
    assert [(link.role, link.label) for link in links] == [
        ("fix", "fix: PR #2"),
        ("related", "issue #1"),
    ]
    page = render_html(report_of(results(all_cells())))
    assert ">issue #974</a> · <a " in page and ">fix: PR #975</a>" in page
    assert not re.search(r'<p class="links">\s*·', page)


def test_a_fragmented_history_is_shortened_in_the_overview_only() -> None:
    versions = [f"0.{minor}.0" for minor in range(10, 40)]
    cells = [
        cell(v, "3.8", "known-failure" if i % 2 else "pass",
             signature="port0-getpeername-enotconn" if i % 2 else None, expected=True)
        for i, v in enumerate(versions)
    ]  # fmt: skip
    page = render_html(report_of(results(cells), scenarios={}))
    row = re.search(r'<tr data-scenario="port-zero-startup".*?</tr>', page, re.S)
    assert row is not None
    shown = re.findall(r'<span class="span ([^" ]+)', row.group(0))
    assert shown.count("o-known-failure") == 2 * MAX_OVERVIEW_SPANS  # every Python, 3.8
    assert "o-pass" not in shown
    assert row.group(0).count('href="#scenario-port-zero-startup">+22 more range(s)</a>') == 2
    section = page[page.index('<section class="scenario"') :]
    assert section.count('class="span o-pass"') == 15  # the section keeps every range
