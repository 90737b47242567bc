"""Shared by the tests that drive Chromium (test_browser, test_hub, test_html_offline).

Chromium is Debian's (`apt-get install chromium`), driven by Playwright (pinned in
requirements.txt). On this kind of machine it needs the background-networking flags below, or it
keeps trying to reach hosts the closed network refuses.
"""
import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MISSING_CHROMIUM = ("Chromium is not installed (looked for /usr/bin/chromium and `chromium` on "
                    "PATH); install it with `apt-get install chromium` to run the browser tests")


def find_chromium():
    """Path of the system's Chromium, or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def playwright_or_skip():
    """Playwright's sync API, or skip the calling test saying how to get it."""
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(it is pinned in requirements.txt: run `make setup`)")


@contextmanager
def launched(sync_api, extra_args=()):
    """A headless Chromium with CHROMIUM_ARGS (and ``extra_args``), closed on leaving."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(),
                                             args=CHROMIUM_ARGS + list(extra_args), headless=True)
        try:
            yield browser
        finally:
            browser.close()
