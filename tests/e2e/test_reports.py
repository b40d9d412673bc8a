"""Reports of real runs: the HTML table in headless Chromium, shards merged, hostile output.

The run: both seed scenarios x 8 uvicorn releases x 2 Pythons.  The page is
checked in a real browser: the overview comes first with its ranges merged and
every mark explained, its failing range opens the 0.13.4 cell's evidence onto
the `Errno 107` line, jumps land below the sticky bar, every grid cell shows the
outcome the results file has, filters work, the page fits 390 px without
sideways scrolling, and screenshots under reports/e2e/ are checked for colour.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from harness.envs.interpreters import Interpreter
from harness.reports.html import outcome_word
from tests.conftest import ROOT
from tests.e2e.browser import chromium
from tests.e2e.conftest import CliRun, run_cli
from tests.junit_schema import validate_junit

pytestmark = pytest.mark.e2e

VERSIONS = ["0.12.1", "0.12.2", "0.12.3", "0.13.0", "0.13.3", "0.13.4", "0.14.0", "0.15.0"]
SCENARIOS = ["--scenario", "port-zero-startup", "--scenario", "two-worker-startup"]
OUT = ROOT / "reports" / "e2e"
PASS_BG = (0xD9, 0xF2, 0xDE)
KNOWN_BG = (0xFF, 0xF0, 0xC2)
TAIL_BG = (0xF7, 0xF7, 0xF7)


@dataclass
class ReportRun:
    cli: CliRun
    results: Path
    html: Path
    junit: Path
    markdown: Path
    pythons: list[str]


@pytest.fixture(scope="module")
def pythons(interpreters: list[Interpreter]) -> list[str]:
    """The oldest interpreter and the newest up to 3.11 (where these old releases run)."""
    usable = [i.minor for i in interpreters if i.version.release[:2] <= (3, 11)]
    if len(usable) < 2:
        pytest.fail(f"two CPython interpreters 3.8..3.11 are needed, found {usable}")
    return [usable[0], usable[-1]]


def _run(args: list[str], cache_dir: Path, folder: Path, name: str) -> ReportRun:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{name}.{kind}" for kind in ("html", "xml", "md")}
    cli = run_cli(
        [
            *args,
            "--html",
            str(paths["html"]),
            "--junit",
            str(paths["xml"]),
            "--markdown",
            str(paths["md"]),
        ],
        cache_dir,
        folder,
        env={"GITHUB_STEP_SUMMARY": ""},
    )
    results = folder / f"{name}.json"
    (folder / "results.json").replace(results)
    pythons = [a for i, a in enumerate(args) if i and args[i - 1] == "--python"]
    return ReportRun(cli, results, paths["html"], paths["xml"], paths["md"], pythons)


@pytest.fixture(scope="module")
def full_run(cache_dir: Path, pythons: list[str]) -> ReportRun:
    args = ["run", *SCENARIOS, "--versions", ",".join(VERSIONS)]
    for python in pythons:
        args += ["--python", python]
    run = _run(args, cache_dir, OUT, "index")
    assert run.cli.code == 0, run.cli.stdout + run.cli.stderr
    return run


def _cell_rows(results: Path) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(results.read_text())["cells"]
    return cells


def test_the_overview_answers_first(full_run: ReportRun) -> None:
    """At 1400 px: the overview is the first thing, its ranges merged, its marks explained."""
    with chromium() as browser:
        browser.get(full_run.html.as_uri())
        assert browser.title == "Which uvicorn releases are safe"
        first = browser.execute_script("return document.querySelector('section').id")
        assert first == "overview"
        overview = browser.find_element("id", "overview")
        assert overview.rect["y"] < 200
        port = _overview_cell(browser, "port-zero-startup", "every")
        assert port.find_element("css selector", ".tlabel").text == (
            f"{full_run.pythons[0]}–{full_run.pythons[-1]}"
        )
        assert _spans(port) == [
            "✓ 0.12.1–0.13.3",
            "✗ 0.13.4 port0-getpeername-enotconn #974",
            "✓ 0.14.0–0.15.0",
        ]
        assert _spans(_overview_cell(browser, "two-worker-startup", "every")) == ["✓ 0.12.1–0.15.0"]
        for python in full_run.pythons:
            cell = _overview_cell(browser, "port-zero-startup", python)
            assert "✗ 0.13.4" in cell.text and cell.is_displayed()
        verdicts = browser.find_element("id", "verdicts").text
        assert f"Python {full_run.pythons[0]}: 0.15.0" in verdicts
        legend = browser.find_element("id", "legend")
        assert legend.get_attribute("open") is not None and legend.is_displayed()
        shown = {
            el.text.split(" ")[0]
            for el in browser.find_elements("css selector", "#overview-table .span")
        }
        explained = legend.text
        for mark in shown:
            assert f"{mark} " in explained, mark
        shot = OUT / "overview-1400.png"
        browser.save_screenshot(str(shot))
        assert _count(Image.open(shot), PASS_BG) > 2000, "no pass range on the first screen"
        assert _count(Image.open(shot), KNOWN_BG) > 500, "no known-bug range on the first screen"

        # The picker narrows the overview to one Python.
        from selenium.webdriver.support.ui import Select

        Select(browser.find_element("id", "python-picker")).select_by_value(full_run.pythons[-1])
        headers = [
            th.text
            for th in browser.find_elements("css selector", "#overview-table thead th")
            if th.is_displayed()
        ]
        assert headers == ["scenario", "every Python", f"Python {full_run.pythons[-1]}"]
        lines = [li.text for li in browser.find_elements("css selector", "#verdicts li")]
        assert [line for line in lines if line] == [
            line for line in lines if line.startswith(f"Python {full_run.pythons[-1]}:")
        ]


def test_evidence_and_anchors_in_chromium(full_run: ReportRun) -> None:
    """A failing range opens its cell's evidence; jumps land below the sticky bar; the
    full grids hold every cell; the filters work."""
    cells = _cell_rows(full_run.results)
    assert len(cells) == 2 * len(VERSIONS) * 2
    for cell in cells:  # the expected outcomes of the seed scenarios on Linux
        bad = cell["scenario"] == "port-zero-startup" and cell["version"] == "0.13.4"
        assert cell["outcome"] == ("known-failure" if bad else "pass"), cell
    with chromium() as browser:
        browser.get(full_run.html.as_uri())
        grid_box = browser.find_element(
            "css selector", 'section[data-scenario="port-zero-startup"] details.grid-box'
        )
        assert grid_box.get_attribute("open") is None, "grids are folded by default"
        drawer = browser.find_element("id", "evidence")
        assert not drawer.is_displayed() and drawer.text == ""  # drawn on demand

        link = _overview_cell(browser, "port-zero-startup", "every").find_element(
            "css selector", "a.ev"
        )
        link.click()
        assert grid_box.get_attribute("open") is not None
        evidence = browser.find_element("id", "evidence")
        assert evidence.is_displayed()
        opened = browser.find_element("css selector", "td.cell.open")
        assert opened.get_attribute("data-outcome") == "known-failure"
        assert "port0-getpeername-enotconn" in evidence.text
        assert evidence.find_element("css selector", ".exit-code").text == "1"
        exception = evidence.find_element("css selector", "code.exception").text
        assert exception == "OSError: [Errno 107] Transport endpoint is not connected"
        tail = evidence.find_element("css selector", "pre.tail")
        assert "OSError: [Errno 107] Transport endpoint is not connected" in tail.text
        shot = OUT / "evidence-0.13.4.png"
        browser.save_screenshot(str(shot))
        assert _count(Image.open(shot), TAIL_BG) > 2000, "the output tail is not on screen"
        browser.find_element("tag name", "body").send_keys("\ue00c")  # Escape closes it

        # A jump from the table of contents lands below the sticky filter bar.
        toc = browser.find_element("css selector", 'nav a[href="#scenario-two-worker-startup"]')
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", toc)
        toc.click()
        landed = browser.execute_script(
            "const h = document.querySelector('#scenario-two-worker-startup h2')"
            ".getBoundingClientRect();"
            "const bar = document.getElementById('filters').getBoundingClientRect();"
            "return [h.top, bar.bottom, window.innerHeight];"
        )
        assert landed[1] <= landed[0] < landed[2] / 2, landed

        browser.execute_script(
            "document.querySelectorAll('details.grid-box').forEach(d => { d.open = true; });"
        )
        for cell in cells:
            td = _grid_cell(browser, cell["scenario"], cell["version"], cell["python"])
            assert td.get_attribute("data-outcome") == cell["outcome"], cell
            assert outcome_word(cell["outcome"]) in td.text
        grid = browser.find_element(
            "css selector", 'section[data-scenario="port-zero-startup"] table.grid'
        )
        browser.execute_script(
            "arguments[0].scrollIntoView({block: 'start'});"
            "window.scrollBy(0, -document.getElementById('filters').offsetHeight - 8);",
            grid,
        )
        shot = OUT / "grid.png"
        browser.save_screenshot(str(shot))
        _assert_grid_in_screenshot(shot, grid)
        _check_filters(browser)


def test_the_page_fits_a_phone(full_run: ReportRun) -> None:
    """At 390 px the page never scrolls sideways; wide tables scroll in their own box."""
    with chromium() as browser:
        browser.set_window_size(390, 844)
        browser.get(full_run.html.as_uri())
        width = browser.execute_script("return window.innerWidth")
        assert width <= 400, width
        browser.save_screenshot(str(OUT / "overview-390.png"))
        browser.execute_script(
            "document.querySelectorAll('details.grid-box').forEach(d => { d.open = true; });"
            "document.querySelector('td.cell').click();"
        )
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 390 px"
        port = browser.find_element(
            "css selector", '#overview-table tr[data-scenario="port-zero-startup"]'
        )
        assert "✗ 0.13.4 port0-getpeername-enotconn" in port.text
        assert port.rect["x"] >= 0 and port.rect["x"] + port.rect["width"] <= width
        evidence = browser.find_element("id", "evidence")
        assert evidence.is_displayed() and evidence.rect["width"] <= width


def _spans(cell: Any) -> list[str]:
    return [span.text for span in cell.find_elements("css selector", ".span")]


def _overview_cell(browser: Any, scenario: str, python: str) -> Any:
    row = f'#overview-table tr[data-scenario="{scenario}"]'
    if python == "every":
        return browser.find_element("css selector", f"{row} td.every")
    return browser.find_element("css selector", f'{row} td[data-python="{python}"]')


def _grid_cell(browser: Any, scenario: str, version: str, python: str) -> Any:
    section = f'section[data-scenario="{scenario}"] table.grid'
    header = browser.find_element(
        "css selector", f'{section} thead th[data-python="{python}"][data-platform="linux"]'
    )
    column = header.get_attribute("data-col")
    return browser.find_element(
        "css selector", f'{section} tr[data-version="{version}"] td[data-col="{column}"]'
    )


def _count(image: Image.Image, colour: tuple[int, int, int]) -> int:
    rgb = image.convert("RGB")
    return sum(n for n, pixel in rgb.getcolors(maxcolors=1 << 24) or () if pixel == colour)


def _assert_grid_in_screenshot(shot: Path, grid: Any) -> None:
    """The grid is on the picture: its box holds the pass and known-bug colours."""
    image = Image.open(shot)
    rect = grid.parent.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return [r.left, r.top, r.right, r.bottom, window.devicePixelRatio];",
        grid,
    )
    box = tuple(round(v * rect[4]) for v in rect[:4])
    crop = image.crop(box)
    assert crop.width > 100 and crop.height > 100, box
    assert _count(crop, PASS_BG) > 20 * 14 * 40, "no pass cells in the screenshot's grid"
    assert _count(crop, KNOWN_BG) > 2 * 40 * 10, "no known-bug cells in the screenshot's grid"


def _visible_cells(browser: Any) -> list[Any]:
    return [
        td for td in browser.find_elements("css selector", "td.cell:not(.dim)") if td.is_displayed()
    ]


def _check_filters(browser: Any) -> None:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    form = browser.find_element("id", "filters")
    assert form.is_displayed()
    Select(form.find_element("name", "outcome")).select_by_value("known-failure")
    visible = _visible_cells(browser)
    assert len(visible) == 2
    assert {td.get_attribute("data-outcome") for td in visible} == {"known-failure"}
    two_workers = browser.find_element(
        "css selector", 'section[data-scenario="two-worker-startup"]'
    )
    assert not two_workers.is_displayed()
    form.find_element("css selector", "button[type=reset]").click()
    browser.execute_script(
        "document.querySelectorAll('details.grid-box').forEach(d => { d.open = true; });"
    )
    WebDriverWait(browser, 10).until(lambda b: len(_visible_cells(b)) == 32)
    form.find_element("name", "unexpected").click()
    assert _visible_cells(browser) == []
    assert "0 cell(s)" in form.find_element("name", "status").text


def test_the_junit_and_markdown_of_the_run(full_run: ReportRun) -> None:
    from junitparser import JUnitXml, Skipped

    validate_junit(full_run.junit)
    xml = JUnitXml.fromfile(str(full_run.junit))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"port-zero-startup", "two-worker-startup"}
    skipped = [
        case.name
        for suite in xml
        for case in suite
        if any(isinstance(r, Skipped) for r in case.result)
    ]
    assert sorted(skipped) == sorted(f"uvicorn==0.13.4 py{p} linux" for p in full_run.pythons)
    assert all(suite.failures == 0 for suite in xml)
    markdown = full_run.markdown.read_text()
    assert markdown.startswith("## ✅ no regression: 32 cell(s), 0 unexpected")
    assert "**✗ 0.13.4 port0-getpeername-enotconn [#974][r1]**" in markdown
    assert "[r1]: <https://github.com/Kludex/uvicorn/issues/974>" in markdown
    assert "| two-worker-startup | " in markdown and ": ✓ 0.12.1–0.15.0 |" in markdown
    assert "**refined**" in markdown
    assert len(markdown.encode()) < 10_000


def _grid_digest(html: Path) -> list[tuple[str, ...]]:
    """What a reader sees in the grids and claims, without timings or output."""

    class Digest(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[tuple[str, ...]] = []
            self.scenario = ""
            self.version = ""
            self.in_claims = False
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "section" and a.get("data-scenario"):
                self.scenario = a["data-scenario"] or ""
            if tag == "tr" and a.get("data-version"):
                self.version = a["data-version"] or ""
            if tag == "td" and a.get("data-outcome"):
                self.rows.append(
                    (
                        self.scenario,
                        self.version,
                        a.get("data-col") or "",
                        a["data-outcome"] or "",
                        a.get("data-unexpected") or "",
                    )
                )
            if tag == "th" and a.get("data-python"):
                self.rows.append(
                    (
                        self.scenario,
                        "column",
                        a.get("data-col") or "",
                        a["data-python"] or "",
                        a.get("data-platform") or "",
                    )
                )
            if tag == "table" and "claims" in (a.get("class") or ""):
                self.in_claims, self.text = True, []

        def handle_endtag(self, tag: str) -> None:
            if tag == "table" and self.in_claims:
                self.rows.append((self.scenario, "claims", " ".join("".join(self.text).split())))
                self.in_claims = False

        def handle_data(self, data: str) -> None:
            if self.in_claims:
                self.text.append(data)

    parser = Digest()
    parser.feed(html.read_text())
    return parser.rows


def _junit_digest(path: Path) -> list[tuple[str, str, str]]:
    from junitparser import JUnitXml

    return sorted(
        (suite.name, case.name, ",".join(type(r).__name__ for r in case.result))
        for suite in JUnitXml.fromfile(str(path))
        for case in suite
    )


def test_merged_shards_report_like_one_run(
    full_run: ReportRun, cache_dir: Path, tmp_path: Path
) -> None:
    """Two shards (older and newer releases) merged = the report of one run over both."""
    shards = []
    for name, versions in (("shard-a", VERSIONS[:5]), ("shard-b", VERSIONS[5:])):
        args = ["run", *SCENARIOS, "--versions", ",".join(versions)]
        for python in full_run.pythons:
            args += ["--python", python]
        shard = _run(args, cache_dir, tmp_path / name, name)
        assert shard.cli.code == 0, shard.cli.stdout + shard.cli.stderr
        shards.append(shard.results)

    def report(name: str, *inputs: Path) -> tuple[CliRun, Path]:
        folder = tmp_path / name
        args = [
            "report",
            *map(str, inputs),
            "--html",
            str(folder / "r.html"),
            "--junit",
            str(folder / "r.xml"),
            "--markdown",
            str(folder / "r.md"),
            "--json",
            str(folder / "r.json"),
        ]
        return run_cli(args, cache_dir, tmp_path, env={"GITHUB_STEP_SUMMARY": ""}), folder

    merged, merged_dir = report("merged", *shards)
    single, single_dir = report("single", full_run.results)
    assert merged.code == single.code == 0, merged.stdout + merged.stderr
    assert (merged_dir / "r.md").read_text() == (single_dir / "r.md").read_text()
    assert _junit_digest(merged_dir / "r.xml") == _junit_digest(single_dir / "r.xml")
    assert _grid_digest(merged_dir / "r.html") == _grid_digest(single_dir / "r.html")
    assert len(_grid_digest(merged_dir / "r.html")) > 32
    merged_claims = json.loads((merged_dir / "r.json").read_text())["claims"]
    assert merged_claims == json.loads(full_run.results.read_text())["claims"]
    # The merged results file is itself a valid input that reports the same.
    again, again_dir = report("again", merged_dir / "r.json")
    assert again.code == 0, again.stderr
    assert (again_dir / "r.md").read_text() == (merged_dir / "r.md").read_text()


HOSTILE_APP = '''
"""Prints markup, then fails at import with markup in the exception."""
print("<b id='injected'>bold?</b></pre><script>window.__pwned = 1</script>", flush=True)
raise RuntimeError("</pre><script>window.__pwned = 2</script><img src=x onerror=alert(1)>")
'''
HOSTILE_SCENARIO = """
id = "hostile-output"
title = "a server whose output is <em>markup</em> & </pre>"

[server]
app = "hostile_app:app"
command = ["uvicorn", "{app}", "--host", "{host}", "--port", "{port}"]
ready = 'Uvicorn running on http://(?P<host>[^:]+):(?P<port>\\d+)'

[limits]
ready_s = 20

[[expect.http]]
path = "/"
status = 200
"""


@pytest.fixture
def hostile_scenarios(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "hostile.toml").write_text(textwrap.dedent(HOSTILE_SCENARIO))
    (folder / "hostile_app.py").write_text(HOSTILE_APP)
    yield folder


def test_server_output_is_shown_as_text(
    hostile_scenarios: Path, cache_dir: Path, tmp_path: Path, pythons: list[str]
) -> None:
    args = [
        "run",
        "--scenarios-dir",
        str(hostile_scenarios),
        "--scenario",
        "hostile-output",
        "--versions",
        "0.14.0",
        "--python",
        pythons[-1],
    ]
    run = _run(args, cache_dir, tmp_path / "out", "hostile")
    assert run.cli.code == 1, run.cli.stdout + run.cli.stderr  # a new failure: unexpected
    (cell,) = _cell_rows(run.results)
    assert cell["outcome"] == "new-failure", cell["reason"]
    assert "<script>window.__pwned = 1</script>" in cell["output_tail"]
    assert "</pre><script>" in cell["fingerprint"]
    page = run.html.read_text()
    assert "<script>window.__pwned" not in page
    assert "\\u003c/pre\\u003e\\u003cscript\\u003ewindow.__pwned = 1" in page  # inert JSON
    validate_junit(run.junit)
    assert "\\<script\\>" in run.markdown.read_text()
    with chromium() as browser:
        browser.get(run.html.as_uri())
        assert browser.execute_script("return window.__pwned === undefined")
        assert browser.find_elements("id", "injected") == []
        title = browser.find_element("css selector", "section.scenario h2").text
        assert "<em>markup</em> & </pre>" in title
        browser.find_element("css selector", "details.grid-box > summary").click()
        td = browser.find_element("css selector", "td.cell")
        assert td.get_attribute("data-outcome") == cell["outcome"]
        assert td.get_attribute("data-unexpected") == "1"
        td.click()
        drawer = browser.find_element("id", "evidence")
        tail = drawer.find_element("css selector", "pre.tail").text
        assert "<b id='injected'>bold?</b></pre><script>window.__pwned = 1</script>" in tail
        fingerprint = drawer.find_element("css selector", "code.fingerprint").text
        assert "</pre><script>window.__pwned = 2</script>" in fingerprint
        assert re.search(r"output tail", drawer.text)
        assert browser.find_elements("id", "injected") == []
