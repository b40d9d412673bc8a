"""How the reports scale: 100 versions x 10 interpreters x 20 scenarios (20,000 cells).

Synthesises results files of that size with a realistic mix of outcomes and
output (pass logs of a few hundred bytes, tracebacks of a few kilobytes for
failures), then:

* runs the real command, `python -m harness report SHARDS --html --markdown`, in
  a fresh process, and prints its wall time and peak memory (max RSS of that
  process: loading, merging, the terminal summary, the HTML page and the
  Markdown) against the targets (under 5 s, under 300 MB);
* times each step in this process (load + merge, build, render HTML, JUnit,
  Markdown) and prints the files' sizes;
* with `--browser`, opens the page in headless Chromium (system `chromium` +
  `chromedriver`, Selenium) and times the load (target: under 2 s), a filter,
  and opening a cell (its evidence is parsed and drawn then).

Prints figures; asserts nothing.

    python benchmarks/report_scale.py [--versions 100] [--pythons 10] [--scenarios 20]
                                      [--shards 4] [--browser] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure this checkout's harness, not an installed one

from harness.reports.html import render_html  # noqa: E402
from harness.reports.junit import render_junit  # noqa: E402
from harness.reports.markdown import render_markdown  # noqa: E402
from harness.reports.merge import load_and_merge  # noqa: E402
from harness.reports.model import build_report  # noqa: E402
from harness.results import CellResult, RunResults, write_results  # noqa: E402

T = TypeVar("T")
TRACEBACK = (ROOT / "fixtures" / "linux" / "port-zero-startup-0.13.4-py3.8.txt").read_text()
PASS_LOG = """INFO:     Started server process [{pid}]
INFO:     Waiting for application startup.
INFO:     ASGI 'lifespan' protocol appears unsupported.
INFO:     Application startup complete.
INFO:     Uvicorn running on http://127.0.0.1:{port} (Press CTRL+C to quit)
INFO:     127.0.0.1:{peer} - "GET / HTTP/1.1" 200 OK
INFO:     Shutting down
INFO:     Finished server process [{pid}]
"""
OUTCOMES = [
    ("pass", 0.85),
    ("known-failure", 0.08),
    ("skip", 0.03),
    ("new-failure", 0.02),
    ("timeout", 0.01),
    ("install-error", 0.01),
]


def synthesise(versions: int, pythons: int, scenarios: int, seed: int = 7) -> list[CellResult]:
    rng = random.Random(seed)
    names = [f"0.{minor}.{patch}" for minor in range(1, 80) for patch in range(4)][:versions]
    interpreters = [f"3.{minor}" for minor in range(6, 6 + pythons)]
    cells = []
    for s in range(scenarios):
        for version in names:
            for python in interpreters:
                outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
                failing = outcome in ("known-failure", "new-failure", "timeout")
                tail = (
                    TRACEBACK
                    if failing
                    else PASS_LOG.format(
                        pid=rng.randrange(1000, 99999),
                        port=rng.randrange(20000, 60000),
                        peer=rng.randrange(20000, 60000),
                    )
                )
                cells.append(
                    CellResult(
                        scenario=f"scenario-{s:02d}",
                        package="uvicorn",
                        version=version,
                        python=python,
                        platform="linux",
                        outcome=outcome,
                        expected=outcome in ("pass", "known-failure", "skip"),
                        reason=f"{outcome}: synthesised",
                        signature="sig-enotconn" if outcome == "known-failure" else None,
                        fingerprint="OSError: [Errno <n>] synthesised" if failing else None,
                        duration_s=rng.uniform(0.3, 3.0),
                        exit_code=1 if failing else 0,
                        output_tail=tail if outcome != "skip" else "",
                        python_full=f"{python}.9",
                        resolved={"uvicorn": version, "h11": "0.14.0", "click": "8.1.7"},
                        checks=({"name": "ready", "ok": not failing, "detail": "synthesised"},),
                    )
                )
    return cells


def _max_rss() -> str:
    try:
        import resource
    except ImportError:  # Windows
        return "not measured here"
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f"{kib / 1024:.0f} MiB" if sys.platform != "darwin" else f"{kib / 2**20:.0f} MiB"


def timed(label: str, action: Callable[[], T], rows: list[tuple[str, str]]) -> T:
    started = time.perf_counter()
    value = action()
    rows.append((label, f"{time.perf_counter() - started:.2f} s"))
    return value


def command_figures(shards: list[Path], folder: Path, rows: list[tuple[str, str]]) -> None:
    """The `report` command itself, in a fresh process: wall time and peak memory."""
    import resource

    argv = [sys.executable, "-m", "harness", "report", *map(str, shards),
            "--html", str(folder / "cli.html"), "--markdown", str(folder / "cli.md")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80", "GITHUB_STEP_SUMMARY": ""}
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows.append(("`report` command: exit code", str(done.returncode)))
    rows.append(("`report` command: wall time (target < 5 s)", f"{took:.2f} s"))
    rows.append(("`report` command: peak memory (target < 300 MB)", f"{peak:.0f} MiB"))
    rows.append(("`report` command: summary lines printed", str(len(done.stdout.splitlines()))))


def browser_figures(html: Path, rows: list[tuple[str, str]]) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not browser_path or not driver_path:
        rows.append(("browser", "not measured: chromium / chromedriver not found"))
        return
    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(300)
        timed("browser: load the page (target < 2 s)", lambda: driver.get(html.as_uri()), rows)
        nav: dict[str, Any] = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd};"
        )
        rows.append(
            ("browser: DOMContentLoaded / load", f"{nav['dom']:.0f} / {nav['load']:.0f} ms")
        )
        filter_ms = driver.execute_script(
            "const box = document.querySelector('#filters [name=unexpected]');"
            "const t = performance.now(); box.click(); const a = performance.now() - t;"
            "const t2 = performance.now(); box.click(); return [a, performance.now() - t2];"
        )
        rows.append(
            ("browser: 'only unexpected' on / off", f"{filter_ms[0]:.0f} / {filter_ms[1]:.0f} ms")
        )
        # The first cell opened parses the page's evidence JSON; later ones only draw.
        open_ms = driver.execute_script(
            "const cells = document.querySelectorAll('td.cell');"
            "const times = [];"
            "for (const td of [cells[0], cells[cells.length - 1]]) {"
            "  td.closest('details.grid-box').open = true;"
            "  const t = performance.now(); td.click();"
            "  document.getElementById('evidence').getBoundingClientRect();"
            "  times.push(performance.now() - t); }"
            "return times;"
        )
        rows.append(
            (
                "browser: open a cell, first / next (evidence)",
                f"{open_ms[0]:.0f} / {open_ms[1]:.0f} ms",
            )
        )
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--pythons", type=int, default=10)
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--shards", type=int, default=4, help="results files to merge")
    parser.add_argument("--browser", action="store_true", help="also time it in Chromium")
    parser.add_argument("--keep", type=Path, help="write the files here instead of a temp dir")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="report-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    cells = synthesise(args.versions, args.pythons, args.scenarios)
    shards = []
    for shard in range(args.shards):
        path = folder / f"shard-{shard}.json"
        write_results(
            path, RunResults(cells=cells[shard :: args.shards], started_at="2026-01-01T00:00:00Z")
        )
        shards.append(path)

    rows: list[tuple[str, str]] = [("cells", f"{len(cells):,} in {args.shards} results files")]
    del cells  # the command below and the steps after read the files, as `report` does
    command_figures(shards, folder, rows)
    merged = timed("load + merge", lambda: load_and_merge(shards), rows)
    report = timed("build report (claims, grids)", lambda: build_report(merged, {}), rows)
    html = timed("render HTML", lambda: render_html(report), rows)
    junit = timed("render JUnit", lambda: render_junit(report), rows)
    markdown = timed("render Markdown", lambda: render_markdown(report), rows)
    rows.append(("peak memory of this process (max RSS)", _max_rss()))
    for name, text in (("index.html", html), ("junit.xml", junit), ("summary.md", markdown)):
        (folder / name).write_text(text, encoding="utf-8")
        rows.append((f"size of {name}", f"{len(text.encode()) / 2**10:,.0f} KiB"))
    rows.append(("results files", f"{sum(p.stat().st_size for p in shards) / 2**10:,.0f} KiB"))
    if args.browser:
        browser_figures(folder / "index.html", rows)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if args.keep is None:
        shutil.rmtree(folder)
    else:
        print(f"files in {folder}")


if __name__ == "__main__":
    main()
