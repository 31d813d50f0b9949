"""Building a campaign from a segment in a real browser: marketing1 follows "new campaign
from this segment" on the value dashboard, watches the exact count change as the filter is
edited, saves the list and plans a personal-selling campaign on it, launches it and reads
its results; then the same pages in Chinese."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

TEXTS = {
    "en": {"from_segment": "New campaign from this segment", "three": "3 customers match",
           "two": "2 customers match", "results": "Results", "holdout": "Hold-out group"},
    "zh-hans": {"from_segment": "用此细分群体新建营销活动", "three": "3 位客户符合",
                "two": "2 位客户符合", "results": "效果", "holdout": "对照组"},
}


@pytest.fixture
def scored(users):
    from kehu.analytics.models import CustomerValue, ValueRefresh
    from kehu.customers.services import create_customer

    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done",
                                      finished_at=timezone.now())
    owners = ["sales1", "sales1", "sales1b", "sales2"]
    for i, owner in enumerate(owners):
        customer = create_customer(users["admin"], {"name": f"杭州老客户{i}号"},
                                   owner=users[owner])
        CustomerValue.objects.create(customer=customer, refresh=run, segment="invest",
                                     loyalty_index=50 + 10 * i, clv=1000 * (i + 1))


def test_a_campaign_from_a_segment_with_its_exact_count(page, live_server, users, scored,
                                                        shot):
    texts = TEXTS["en"]
    sign_in(page, live_server, "marketing1")
    page.goto(f"{live_server.url}/value/")
    link = page.locator("#group-actions li[data-group='segment-invest'] "
                        "a[href^='/target-lists/new/']")
    assert link.inner_text() == texts["from_segment"]
    shot(page, "campaigns-en-1-dashboard")
    link.click()
    # Three of the four are in marketing1's team: the count is exact and scoped.
    page.wait_for_selector("#list-count strong")
    assert page.inner_text("#list-count strong") == texts["three"]
    page.fill("input[name=loyalty_min]", "55")
    page.wait_for_function("() => document.querySelector('#list-count strong')"
                           "?.dataset.count === '2'")
    assert page.inner_text("#list-count strong") == texts["two"]
    shot(page, "campaigns-en-2-list-form")
    page.click("#save-and-campaign")
    page.wait_for_selector("#campaign-form")
    page.fill("input[name=name]", "Thank-you visits 答谢拜访")
    page.select_option("select[name=kind]", "personal_selling")
    page.select_option("select[name=channels]", ["visit"])
    page.fill("input[name=holdout_percent]", "0")
    page.fill("input[name=subject]", "Visit and thank them")
    shot(page, "campaigns-en-3-campaign-form")
    page.click("#save-campaign")
    page.wait_for_selector("#launch-campaign")
    assert page.inner_text("#audience") == "2 customers now"
    page.click("#launch-campaign")
    page.wait_for_selector("#results")
    assert texts["holdout"] in page.inner_text("#results-table")
    rows = page.locator("#contact-table tbody tr")
    assert rows.count() == 2
    assert "Visit and thank them" in rows.first.inner_text()
    shot(page, "campaigns-en-4-launched")
    url = page.url

    texts = TEXTS["zh-hans"]
    switch_language(page, "zh-hans")
    page.goto(url)
    assert page.inner_text("#results-title") == texts["results"]
    shot(page, "campaigns-zh-hans-4-launched")
    page.goto(f"{live_server.url}/value/")
    page.locator("#group-actions li[data-group='segment-invest'] a",
                 has_text=texts["from_segment"]).click()
    page.wait_for_selector("#list-count strong")
    assert page.inner_text("#list-count strong") == texts["three"]
    shot(page, "campaigns-zh-hans-2-list-form")
