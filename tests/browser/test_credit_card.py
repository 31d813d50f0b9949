"""The card's credit tab in a real browser, in English and in Chinese: a manager sees the
limit, terms, exposure, ageing and punctuality, records a payment and an incident, and sees
the flag of an order over the limit; the owner (sales, no sensitive tier) sees none of it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


@pytest.fixture
def in_debt(users, customers):
    from kehu.customers.services import create_transaction, update_customer
    from kehu.sales.credit.services import (
        create_receivable,
        record_credit_incident,
        record_payment,
    )

    admin, east = users["admin"], customers["east"]
    east = update_customer(admin, east, {"credit_limit": "20000.00", "payment_terms_days": 30},
                           expected_version=None)
    today = timezone.localdate()
    for n, days in enumerate((-10, 12, 45, 75, 130)):
        due = today - dt.timedelta(days=days)
        create_receivable(admin, east, issued_on=due - dt.timedelta(days=30), due_on=due,
                          amount=Decimal(2000 + 1000 * n), number=f"FP-{n + 1}")
    paid = create_receivable(admin, east, issued_on=today - dt.timedelta(days=200),
                             due_on=today - dt.timedelta(days=170), amount="1500.00",
                             number="FP-0")
    record_payment(admin, paid, paid_on=today - dt.timedelta(days=175), amount="1500.00")
    record_credit_incident(admin, east, kind="outside_territory",
                           occurred_on=today - dt.timedelta(days=20),
                           description="窜货至华北区域", evidence="投诉单 TS-2291")
    create_transaction(admin, east, date=today, amount="8000.00", number="SO-88")
    return east


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_manager_reads_and_records_credit_on_the_card(page, live_server, users, in_debt,
                                                        shot, language):
    zh = language == "zh-hans"
    sign_in(page, live_server, "manager1")
    if zh:
        switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/customers/{in_debt.pk}/?tab=credit")
    page.wait_for_selector("#credit-figures")
    figures = page.inner_text("#credit-figures")
    for label in (["信用额度", "账期", "未收应收账款", "逾期", "信用敞口"] if zh else
                  ["Credit limit", "Payment terms", "Open receivables", "Overdue", "Exposure"]):
        assert label in figures, label
    assert "20,000.00" in figures and "30" in figures
    # 2000 + 3000 + 4000 + 5000 + 6000 open; all but the first overdue.
    assert "20,000.00" in figures and "18,000.00" in figures
    ageing = page.inner_text("#credit-ageing")
    assert ("逾期 90 天以上" if zh else "More than 90 days overdue") in ageing
    punctual = page.inner_text("#credit-punctuality")
    assert ("准时付款率 20%" if zh else "20% paid on time") in punctual
    flag = page.inner_text("#credit-flag")
    assert "SO-88" in flag and "28,000.00" in flag
    assert "窜货至华北区域" in page.inner_text("#credit-incidents")
    shot(page, f"{language}-credit-tab")
    # Record a partial payment against the oldest invoice.
    row = page.locator("#credit-receivables tr", has_text="FP-5")
    row.locator("summary").click()
    row.locator("input[name$='-amount']").fill("2500")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert ("回款已记录" if zh else "Payment recorded") in page.inner_text("body")
    assert "3,500.00" in page.inner_text("#credit-receivables tr:has-text('FP-5')")
    # The receivables list under Sales, filtered to the oldest bucket.
    page.click("nav.mainnav a:has-text('%s')" % ("销售" if zh else "Sales"))
    page.click("nav.subnav a[href='/sales/receivables/']")
    page.select_option("#id_bucket", "90+")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    rows = page.inner_text("#receivables")
    assert "FP-5" in rows and "FP-1" not in rows
    shot(page, f"{language}-receivables-list")


def test_the_owner_without_the_sensitive_tier_sees_no_credit(page, live_server, users,
                                                             in_debt, shot):
    sign_in(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/{in_debt.pk}/?tab=credit")
    body = page.inner_text("body")
    assert "Credit status" not in body and "SO-88" not in body.split("Transactions")[0]
    assert page.locator("#credit-flag").count() == 0
    assert page.locator("nav.tabs a[href='?tab=credit']").count() == 0
    shot(page, "en-credit-hidden-from-sales")
    # Sales' sub-navigation offers no receivables to them.
    page.click("nav.mainnav a:has-text('Sales')")
    page.wait_for_selector("nav.subnav")
    assert page.locator("nav.subnav a[href='/sales/receivables/']").count() == 0
