"""The loyalty index on the card's Value tab, in a real browser, in English and in Chinese:
each part is shown with what it measures, a statement of intention is recorded, and a state
locked by hand shows its lock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.analytics.refresh import refresh_values
from kehu.value.datasets import simulate_transactions
from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def loyal_customer(users, customers):
    """A hundred customers of sales1 with two years of purchases, scored; the one with the
    most purchase days, who brought another customer."""
    from kehu.analytics.models import Referral
    from kehu.customers.models import Customer, Transaction

    log = simulate_transactions(100, seed=5, start="2024-06-01", as_of=AS_OF.isoformat())
    owner = users["sales1"]
    firm = Customer.objects.bulk_create([
        Customer(name=f"忠诚客户{i:03d}", owner=owner, team_id=owner.team_id, city="杭州")
        for i in range(100)])
    Transaction.objects.bulk_create([
        Transaction(customer=firm[int(c) - 1], date=d.astype(object),
                    amount=Decimal(f"{a:.2f}"), cost=Decimal(f"{a * 0.6:.2f}"))
        for c, d, a in zip(log.customer_id, log.date, log.amount, strict=True)])
    counts = {}
    for c in log.customer_id:
        counts[int(c)] = counts.get(int(c), 0) + 1
    best = firm[max(counts, key=counts.get) - 1]
    other = next(c for c in firm if c.pk != best.pk)
    Referral.objects.create(referrer=best, referred=other, referred_on=dt.date(2025, 1, 1))
    refresh_values(users["admin"], as_of=AS_OF)
    return best


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_shows_each_part_of_the_loyalty_index(page, live_server, users,
                                                       loyal_customer, shot, language):
    sign_in(page, live_server, "sales1")
    if language == "zh-hans":
        switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/customers/{loyal_customer.pk}/?tab=value")
    page.wait_for_selector("#loyalty")
    zh = language == "zh-hans"
    section = page.locator("#loyalty")
    text = section.inner_text()
    for label in (["忠诚度指数", "重复购买率", "规律性", "合作时长", "钱包份额", "推荐客户", "态度"]
                  if zh else ["Loyalty index", "Repeat rate", "Regularity", "Tenure",
                              "Share of wallet", "Referrals made", "Attitude"]):
        assert label in text, label
    index = int(page.locator("#loyalty-index").inner_text())
    assert 0 <= index <= 100
    # Record what the customer said; it is listed with who recorded it.
    section.locator("summary").click()
    page.fill("#id_buy_again", "9")
    page.fill("#id_recommend", "10")
    page.fill("#id_wallet_share", "60")
    page.fill("#id_note", "年度回访" if zh else "Annual review call")
    with page.expect_navigation():
        page.locator("#loyalty-form button[type=submit]").click()
    page.wait_for_selector(".loyalty-statements")
    row = page.locator(".loyalty-statements tbody tr").first.inner_text()
    assert "9" in row and "10" in row and "60" in row and "sales1" in row
    assert ("表态已保存" if zh else "Statement saved") in page.inner_text("body")
    page.locator("#loyalty").scroll_into_view_if_needed()
    shot(page, f"{language}-loyalty-card")
    # Lock the state by hand: the card shows the lock and who set it.
    page.locator(".side-forms summary").first.click()
    page.select_option("#id_state", "loyal")
    page.fill("#id_lock_reason", "董事会决定" if zh else "Board decision")
    with page.expect_navigation():
        page.locator(".side-forms form button[type=submit]").first.click()
    lock = page.locator("#state-lock").inner_text()
    assert ("已锁定" if zh else "Locked") in lock and "sales1" in lock
    assert ("董事会决定" if zh else "Board decision") in lock
    shot(page, f"{language}-state-lock", full_page=False)
