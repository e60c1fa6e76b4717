"""Debian's Chromium driven through Playwright's Python client (no `playwright install`), for the page tests.

A page may reach only the API under test: any other request is aborted and recorded, and script errors
and console errors are collected, so a test can assert that nothing left 127.0.0.1 and nothing failed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from tarroitus.api.app import create_app
from tarroitus.settings import Settings
from tests.api_server import serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MILLIS = 15_000

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)"
)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def local_page(browser: Any, base_url: str, **context_options: Any) -> Iterator[Any]:
    """A page that may reach only `base_url`; it records `outside_requests` and `problems` (script, console errors)."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MILLIS)
    opened = context.new_page()
    opened.outside_requests = []
    opened.problems = []

    def keep_local(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.fallback()
        else:
            opened.outside_requests.append(route.request.url)
            route.abort()

    opened.route("**/*", keep_local)
    opened.on("pageerror", lambda error: opened.problems.append(f"page error: {error}"))
    opened.on(
        "console",
        lambda message: (
            opened.problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    try:
        yield opened
    finally:
        context.close()


@contextmanager
def chromium_page(base_url: str, **context_options: Any) -> Iterator[Any]:
    """A local_page in a Chromium of its own."""
    with chromium() as browser, local_page(browser, base_url, **context_options) as page:
        yield page


@contextmanager
def served_api(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1; yields its base URL."""
    with serve_app(create_app(settings)) as url:
        yield url


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot of `page` under tests/e2e/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path
