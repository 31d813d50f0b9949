"""Under make test (KEHU_REQUIRE_BROWSER=1) a machine without Chromium or Playwright fails the
browser tests with a message saying what to install; a developer's plain pytest skips them."""

from __future__ import annotations

import sys

import pytest

from tests.browser.conftest import REQUIRE_BROWSER, playwright_and_chromium

# No browser here, but this folder's fixtures empty the test database after each test.
pytestmark = pytest.mark.django_db


def test_a_missing_chromium_fails_the_run_that_requires_the_browser(monkeypatch, tmp_path):
    monkeypatch.setenv(REQUIRE_BROWSER, "1")
    with pytest.raises(pytest.fail.Exception,
                       match=r"No Chromium at .*nowhere.*make setup-dev as root"):
        playwright_and_chromium(str(tmp_path / "nowhere"))


def test_a_missing_playwright_fails_the_run_that_requires_the_browser(monkeypatch):
    monkeypatch.setenv(REQUIRE_BROWSER, "1")
    monkeypatch.setitem(sys.modules, "playwright", None)  # as if not installed
    with pytest.raises(pytest.fail.Exception, match="Playwright is not installed"):
        playwright_and_chromium()


def test_a_missing_chromium_skips_when_run_by_hand(monkeypatch, tmp_path):
    monkeypatch.delenv(REQUIRE_BROWSER, raising=False)
    with pytest.raises(pytest.skip.Exception, match="No Chromium"):
        playwright_and_chromium(str(tmp_path / "nowhere"))


def test_make_test_requires_the_browser():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "scripts" / "test.sh").read_text()
    assert f"export {REQUIRE_BROWSER}=1" in script
