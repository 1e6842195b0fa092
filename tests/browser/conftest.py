"""A live server and one headless Chromium for the whole browser test session.

Needs Debian's ``chromium`` (``/usr/bin/chromium``, or set INNOPLAT_CHROMIUM) and the pip
packages ``playwright`` and ``axe-playwright-python``; ``playwright install`` is never needed.
The tests are skipped when Chromium is missing, except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from innoplat.core.platform import Platform
from innoplat.core.services import accounts
from innoplat.core.services import demo as demo_service
from innoplat.core.testing import free_port
from innoplat.core.web import create_app

CHROMIUM = os.environ.get("INNOPLAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
COORDINATOR = ("samordnare@kiruna.example", "vinter är fint 2026")
REPOSITORY = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPOSITORY / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class LiveServer:
    def __init__(self, url: str, platform: Platform) -> None:
        self.url = url
        self.platform = platform

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Kiruna on a SQLite file with a small synthetic demo and a coordinator, served in a thread."""
    folder = tmp_path_factory.mktemp("live")
    instance_before = os.environ.get("INNOPLAT_INSTANCE_PATH")
    os.environ["INNOPLAT_INSTANCE_PATH"] = str(folder / "instance")
    platform = Platform.open("kiruna", f"sqlite:///{folder / 'innoplat.sqlite3'}")
    platform.init()
    with platform.transaction() as session:
        city = platform.city_row(session)
        demo_service.load_demo(session, platform.city, city, ideas=60, seed=3)
        accounts.create_account(
            session,
            city,
            email=COORDINATOR[0],
            name="Sara Samordnare",
            password=COORDINATOR[1],
            role="coordinator",
        )
    port = free_port()  # known before the app is built: links in mails and exports use it
    app = create_app(
        platform=platform,
        config={
            "SECRET_KEY": "browser-tests",
            "INNOPLAT_BASE_URL": f"http://127.0.0.1:{port}",
            "INNOPLAT_SUBMIT_LIMIT": "1000 per minute",
            "INNOPLAT_LOGIN_LIMIT": "1000 per minute",
            "INNOPLAT_TRANSLATIONS_CACHE": str(folder / "translations"),
        },
    )
    if instance_before is None:
        del os.environ["INNOPLAT_INSTANCE_PATH"]
    else:
        os.environ["INNOPLAT_INSTANCE_PATH"] = instance_before
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", platform)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        platform.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session (starting one per test would be slow)."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser context (no cookies) and page, in Swedish, the size of a laptop screen."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


def sign_in(page, live_server: LiveServer) -> None:
    page.goto(live_server("/login"))
    page.get_by_label("E-postadress").fill(COORDINATOR[0])
    page.get_by_label("Lösenord").fill(COORDINATOR[1])
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url("**/dashboard")
