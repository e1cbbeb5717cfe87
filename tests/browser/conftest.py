"""Fixtures for the end-to-end tests: one page server per session, Debian's Chromium via Playwright.

Locally these tests skip, with the reason, when Chromium or Playwright is missing;
with CI=true they fail instead, so CI never passes without running them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.helpers import CHROMIUM, PageWatch, launch_chromium, live_server, open_page


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = launch_chromium(playwright_api)
    yield b
    b.close()


@pytest.fixture(scope="session")
def server_url(browser):   # after the browser check: no server when the tests are skipped
    with live_server() as url:
        yield url


@pytest.fixture
def open_tab(browser, server_url):
    """Open the page in a fresh browser context (a new session); every tab is checked on teardown:
    no request left the machine and the console stayed free of errors."""
    contexts, watches = [], []

    def _open():
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        watch = PageWatch()
        contexts.append(context)
        watches.append(watch)
        return open_page(context, server_url, watch), watch

    yield _open
    for context in contexts:
        context.close()
    for watch in watches:
        assert watch.outside == [], f"the page asked for non-loopback resources: {watch.outside}"
        assert watch.errors == [], f"errors in the browser console: {watch.errors}"
