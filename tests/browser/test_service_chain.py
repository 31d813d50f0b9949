"""The service–profit chain's page in a real browser, in English and in Chinese: both charts
draw, their tables hold the same bands, and the flag of a key customer with changing owners
is linked from the headline."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language
from tests.service.test_chain import _history, _key, _set

pytestmark = pytest.mark.browser


def test_the_chain_page_draws_its_charts_in_both_languages(page, live_server, users, customers,
                                                          shot):
    east, east_b = customers["east"], customers["east_b"]
    _history(east, [(users["sales1"], 900)])
    _history(east_b, [(users["sales1"], 300), (users["manager1"], 200), (users["sales1b"], 10)])
    _set(east, "loyal")
    _set(east_b, "churned")
    _key(east_b)
    sign_in(page, live_server, "manager1")
    page.goto(f"{live_server.url}/service/chain/")
    for chart in ("continuity", "tenure"):
        page.wait_for_selector(f"[data-chart={chart}] svg")
    assert page.locator("#chain-continuity tbody tr").count() == 3
    assert page.locator("#chain-tenure tbody tr").count() == 4
    assert "1 key customer's owner changed twice" in page.inner_text("#headline")
    shot(page, "en-service-chain")
    switch_language(page, "zh-hans")
    page.wait_for_selector("[data-chart=tenure] svg")
    assert "服务利润链" in page.inner_text("main")
    assert "员工任期 → 满意度 → 客户保持 → 客户价值" in page.inner_text("main")
    shot(page, "zh-hans-service-chain")
    page.click("#headline a")
    page.wait_for_selector("#continuity-flags")
    assert east_b.name in page.inner_text("#continuity-flags")
    shot(page, "zh-hans-service-chain-flags")


def test_the_service_dashboard_draws_its_chart_in_both_languages(page, live_server, users,
                                                                customers, shot):
    from tests.service.test_chain import _ticket

    manager = users["manager1"]
    for days in (2, 5, 40, 70):
        _ticket(manager, customers["east"], kind="complaint", days_ago=days)
    _ticket(manager, customers["east_b"], assignee=users["service1"], days_ago=1)
    from django.utils import timezone

    from kehu.service.chain.selectors import service_dashboard
    from kehu.service.sla import sweep

    sweep.run(timezone.now())
    breaching = service_dashboard(manager).breaching
    assert breaching >= 2  # the complaints of 40 and 70 days ago
    sign_in(page, live_server, "manager1")
    page.goto(f"{live_server.url}/service/dashboard/")
    page.wait_for_selector("[data-chart=complaints] svg")
    assert "2 complaints in 30 days × 20" in page.inner_text("#silent")
    assert str(breaching) in page.inner_text("#breaching")
    assert page.inner_text("nav.subnav [aria-current=page]") == "Service dashboard"
    assert page.locator("#service-months tbody tr").count() == 12
    shot(page, "en-service-dashboard")
    switch_language(page, "zh-hans")
    page.wait_for_selector("[data-chart=complaints] svg")
    assert "沉默的不满客户（估算）" in page.inner_text("#silent")
    shot(page, "zh-hans-service-dashboard")
