"""Debian's Chromium driven by Selenium through the system chromedriver (nothing downloaded),
for tests/ui and scripts/screenshot_ui.py.

The flags keep Chromium from reaching out on its own (updates, sync, QUIC probes): this
machine's closed network would otherwise stall it."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 1000):
    """A fresh headless Chromium with a profile of its own, removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        raise RuntimeError(f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install -y chromium chromium-driver "
                           "(.ci/run does this)")
    with tempfile.TemporaryDirectory(prefix="portway-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()
