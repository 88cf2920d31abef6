"""Open local HTML files in headless Debian Chromium (via Playwright) for browser tests.

Import from tests as ``from browser import open_page``. No browser is ever downloaded: Playwright
drives the system binary at :data:`CHROMIUM` (``apt-get install chromium``). Without it the
calling test is skipped, or fails when the environment variable ``CI`` is ``true``.

Every request the page makes is recorded; requests to other hosts are aborted rather than sent,
so a page that needs the network fails visibly instead of depending on the machine's connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@dataclass
class PageSession:
    """An open page and what it did: console errors, uncaught errors, every request URL."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        """Requests to anything but ``file:``, ``data:``, ``blob:`` or ``about:`` URLs."""
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught page errors together."""
        return [*self.console_errors, *self.page_errors]

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the viewport to `path` and return it."""
        self.page.screenshot(path=str(path))
        return path


def require_chromium() -> None:
    """Skip the calling test if Chromium or Playwright is missing (fail instead under CI)."""
    problem = None
    if not CHROMIUM.is_file():
        problem = f"{CHROMIUM} is absent (install the Debian package 'chromium')"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the Python package 'playwright' is not installed"
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Browser test cannot run under CI: {problem}.")
    pytest.skip(f"Browser test skipped: {problem}.")


@contextmanager
def open_page(
    path: Path,
    *,
    ready: str = "() => window.L !== undefined",
    timeout_ms: float = 15_000,
    viewport: tuple[int, int] = (1200, 800),
) -> Iterator[PageSession]:
    """Open a local HTML file in headless Chromium and yield a :class:`PageSession`.

    Parameters
    ----------
    path : Path
        The HTML file, opened through a ``file://`` URL.
    ready : str
        JavaScript function that returns true once the page is usable; waited for after load.
    timeout_ms : float
        Limit for loading the page and for `ready`.
    viewport : tuple of int
        Width and height of the page in CSS pixels.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
            )
            page = context.new_page()
            session = PageSession(page)
            page.on("request", lambda request: session.requests.append(request.url))
            page.on(
                "console",
                lambda message: (
                    session.console_errors.append(f"{message.text} at {message.location}")
                    if message.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda error: session.page_errors.append(str(error)))
            context.route("**/*", _abort_remote)
            page.set_default_timeout(timeout_ms)
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function(ready)
            yield session
        finally:
            browser.close()


def _abort_remote(route: Route) -> None:
    """Let local URLs through; abort anything that would leave the machine."""
    if route.request.url.startswith(LOCAL_SCHEMES):
        route.continue_()
    else:
        route.abort("internetdisconnected")
