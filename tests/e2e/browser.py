"""Headless Chromium for the report tests, driven by Selenium and the system chromedriver.

Debian's `chromium` and `chromium-driver` packages are used as installed
(`.ci/run` installs them); Selenium is never allowed to fetch a browser or a
driver of its own.  The browser gets a fresh profile and no network features.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.e2e.tools import missing_tool

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def find_browser() -> tuple[str, str]:
    """Paths of chromium and chromedriver; fails (in CI) or skips (elsewhere) without."""
    browser = next((p for name in BROWSER_NAMES if (p := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    missing_tool(
        "headless Chromium is needed: apt-get install chromium chromium-driver "
        f"(found browser={browser}, chromedriver={driver})"
    )


@contextmanager
def chromium() -> Iterator[Any]:
    """A Selenium WebDriver on the system Chromium, quit (and its profile removed) after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_browser()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download
    profile = tempfile.mkdtemp(prefix="harness-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
