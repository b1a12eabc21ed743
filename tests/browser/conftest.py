"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium), never a download.

Every test here is marked `browser`. Without /usr/bin/chromium they are skipped with the reason
shown, unless CELITO_REQUIRE_BROWSER=1 is set, in which case they fail. They run on the SQLite
backend only (see `pytestmark` in each module): the page does not depend on the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from tests.support.live import LiveServer

CHROMIUM = Path(os.environ.get("CELITO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(os.environ.get("CELITO_BROWSER_ARTIFACTS", "/tmp"))
HERE = Path(__file__).parent


def _missing_browser() -> str | None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return f"{CHROMIUM} is not installed (apt-get install chromium)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives Debian's /usr/bin/chromium with Playwright (skipped when it is missing, "
        "failed instead when CELITO_REQUIRE_BROWSER=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing_browser()
    for item in items:
        if not item.path.is_relative_to(HERE):
            continue
        item.add_marker(pytest.mark.browser)
        if reason and not os.environ.get("CELITO_REQUIRE_BROWSER"):
            item.add_marker(
                pytest.mark.skip(
                    reason=f"browser test skipped: {reason}; CELITO_REQUIRE_BROWSER=1 fails instead"
                )
            )


@pytest.fixture(scope="module")
def chromium(server: LiveServer) -> Iterator[Browser]:
    """One browser per module, started after the live server and closed before the next module.

    The sync API runs an asyncio loop on this thread while the browser is open, so nothing may
    call asyncio.run() meanwhile (the server's bootstrap does): hence the order and the scope.
    """
    reason = _missing_browser()
    if reason:
        pytest.fail(f"CELITO_REQUIRE_BROWSER is set but {reason}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page on a fresh browser profile that may only talk to the live server."""

    page: Page
    server: LiveServer
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def artifact(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS / name

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        path = self.artifact(name)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_self_contained(self) -> None:
        assert not self.foreign, f"the page tried to reach other hosts: {self.foreign}"
        assert not self.errors, f"JavaScript errors on the page: {self.errors}"


@pytest.fixture()
def tab(chromium: Browser, server: LiveServer) -> Iterator[Tab]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    here = urlsplit(server.base_url)
    page = context.new_page()
    tab = Tab(page, server)

    def guard(route: Route, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob") or (parts.scheme, parts.netloc) == (
            here.scheme,
            here.netloc,
        ):
            route.continue_()
        else:
            tab.foreign.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    page.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()
