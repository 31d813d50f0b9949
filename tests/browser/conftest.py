"""One Chromium for the whole session; each test gets a fresh context (cookies, language)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is intended (the live server is separate).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("KEHU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


# `make test` sets this (scripts/test.sh): there a missing Playwright or Chromium is an error,
# since a run that skipped the browser tests would pass without having looked at one page.
# A developer running pytest by hand on a machine without Chromium gets them skipped.
REQUIRE_BROWSER = "KEHU_REQUIRE_BROWSER"


def browser_missing(reason: str) -> None:
    """Skip the browser tests, or fail them when this run requires them."""
    if os.environ.get(REQUIRE_BROWSER, "").strip().lower() in {"1", "true", "yes", "on"}:
        pytest.fail(f"{reason}. The browser tests are required in this run ({REQUIRE_BROWSER}=1, "
                    "as make test sets): run make setup-dev as root, which installs Debian's "
                    "chromium, or point KEHU_CHROMIUM at a Chromium.", pytrace=False)
    pytest.skip(reason)


def playwright_and_chromium(chromium: str = CHROMIUM):
    """Playwright's sync API, once Playwright and the Chromium binary are both there."""
    try:
        from playwright import sync_api
    except ImportError:
        browser_missing("Playwright is not installed (it is in requirements/dev.txt)")
    if not Path(chromium).is_file():
        browser_missing(f"No Chromium at {chromium} (set KEHU_CHROMIUM)")
    return sync_api


@pytest.fixture(scope="session")
def browser():
    sync_api = playwright_and_chromium()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture(autouse=True)
def _audit_log_flushable(django_db_setup, django_db_blocker):
    """Browser tests run against a live server, so their data is committed and the test
    database is flushed afterwards; see tests.conftest.empty_audit_log."""
    from tests.conftest import empty_audit_log

    yield
    empty_audit_log(django_db_blocker)
