"""The firm's currency in a real browser, in English and in Chinese: yuan by default on the
value dashboard and a card; an administrator switches to US dollars on the value settings
and both pages show dollars at once."""

from __future__ import annotations

import pytest

from kehu.analytics.models import CustomerValue
from tests.browser.test_ui_flow import sign_in, switch_language
from tests.browser.test_value_pages import scored_firm  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_admin_switches_the_currency_and_the_pages_follow(page, live_server, users,
                                                           scored_firm, shot,  # noqa: F811
                                                           language):
    best = CustomerValue.objects.exclude(clv=None).order_by("-clv").first()
    sign_in(page, live_server, "admin")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/customers/{best.customer_id}/")
    page.wait_for_selector(".value-panel")
    clv = page.inner_text("#value-clv")
    assert "¥" in clv and "$" not in clv

    page.goto(f"{live_server.url}/value/settings/")
    page.select_option("#id_currency", "USD")
    with page.expect_navigation():
        page.click("#currency button[type=submit]")
    saved = "货币已保存" if language == "zh-hans" else "Currency saved"
    assert saved in page.inner_text("main")

    page.goto(f"{live_server.url}/value/")
    page.wait_for_selector("[data-chart=equity] svg")
    main = page.inner_text("main")
    assert "$" in main and "¥" not in main
    shot(page, f"{language}-currency-dashboard")
    page.goto(f"{live_server.url}/customers/{best.customer_id}/?tab=value")
    page.wait_for_selector(".value-panel")
    clv = page.inner_text("#value-clv")
    assert "$" in clv and "¥" not in clv
    main = page.inner_text("main")
    assert "¥" not in main
    if language == "zh-hans":
        assert "客户终身价值" in main
    shot(page, f"{language}-currency-card")
