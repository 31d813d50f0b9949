"""Borrowing a customer file in a real browser, in English and in Chinese: a salesperson of
another team asks for a customer they cannot see, the owner's manager answers, and the
borrower reads the card, read-only, until they give it back."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


@pytest.fixture
def second_page(browser):
    """A second person at a second browser, signed in separately."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def ask(page, live_server, what: str, reason: str, days: str) -> None:
    page.click("nav.mainnav a[href^='/loans/']")
    page.click("nav.subnav a[href='/loans/request/']")
    page.fill("input[name=asked_for]", what)
    page.fill("textarea[name=reason]", reason)
    page.fill("input[name=days]", days)
    page.click("form button.primary")
    page.wait_for_url(f"{live_server.url}/loans/")


def test_borrowing_in_english(page, second_page, live_server, users, customers, shot):
    east = customers["east"]
    sign_in(page, live_server, "sales2")
    # The customer list does not show it; the empty list says how to ask for it.
    page.goto(f"{live_server.url}/customers/")
    page.fill("input[name=q]", "上海华东")
    page.wait_for_function(
        "() => document.querySelector('#customer-table').innerText.includes('No customers')")
    assert page.is_visible("#customer-table a[href='/loans/request/']")
    ask(page, live_server, "+86 21 5555 0101", "The customer called about order SO-88.", "3")
    assert "Your request was sent." in page.inner_text(".messages")
    row = page.inner_text("#my-loans tbody tr")
    assert "+86 21 5555 0101" in row and "Requested" in row and east.name not in row
    shot(page, "loans-en-1-requested")

    manager = second_page
    sign_in(manager, live_server, "manager1")
    assert manager.inner_text("nav.mainnav a[href^='/loans/'] .badge.count").startswith("1")
    manager.click("nav.mainnav a[href^='/loans/']")
    manager.wait_for_url(f"{live_server.url}/loans/decide/")
    assert east.name in manager.inner_text("#to-decide")
    shot(manager, "loans-en-2-to-decide")
    manager.click("#to-decide a:has-text('Answer')")
    manager.fill("input[name=days]", "2")
    manager.fill("textarea[name=note]", "Read-only, for the order query.")
    shot(manager, "loans-en-3-decision")
    manager.click("#approve")
    manager.wait_for_url(f"{live_server.url}/loans/decide/")
    assert "Lent to sales2 until" in manager.inner_text(".messages")
    assert "sales2" in manager.inner_text("#lent-now")

    page.goto(f"{live_server.url}/")
    assert "has been answered" in page.inner_text("#loan-answers")
    page.click("#loan-answers a")
    assert "On loan" in page.inner_text("#my-loans tbody tr")
    page.click(f"#my-loans a:has-text('{east.name}')")
    page.wait_for_url(re.compile(rf".*/customers/{east.pk}/$"))
    notice = page.inner_text("#loan-notice")
    assert "On loan to you until" in notice and "Read-only" in notice
    assert page.locator("a:has-text('Edit')").count() == 0
    assert page.locator("#confirm-data").count() == 0
    shot(page, "loans-en-4-card-on-loan")

    manager.goto(f"{live_server.url}/customers/{east.pk}/")
    assert "On loan now to:" in manager.inner_text("#loan-lent")
    shot(manager, "loans-en-5-owner-card")

    page.click("#loan-notice button")
    page.wait_for_url(re.compile(r".*/loans/\d+/$"))
    assert "The loan has ended." in page.inner_text(".messages")
    assert page.goto(f"{live_server.url}/customers/{east.pk}/").status == 404


def test_borrowing_in_chinese(page, second_page, live_server, users, customers, shot):
    east = customers["east"]
    sign_in(page, live_server, "sales2")
    switch_language(page, "zh-hans")
    page.click("nav.mainnav a:has-text('借阅')")
    page.click("nav.subnav a:has-text('申请借阅客户')")
    assert page.is_visible("label:has-text('您需要的客户')")
    # An empty form says what is missing, next to each field and in a list at the top.
    page.click("form button.primary")
    page.locator(".error-summary").wait_for()
    assert page.get_attribute("#id_asked_for", "aria-invalid") == "true"
    shot(page, "loans-zh-1-errors")
    page.fill("input[name=asked_for]", "上海华东贸易有限公司")
    page.fill("textarea[name=reason]", "客户来电询问订单，需要查看联系人。")
    page.click("form button.primary")
    page.wait_for_url(f"{live_server.url}/loans/")
    assert "您的申请已发送" in page.inner_text(".messages")
    assert "待审批" in page.inner_text("#my-loans")
    shot(page, "loans-zh-2-requested")

    owner = second_page
    sign_in(owner, live_server, "sales1")
    switch_language(owner, "zh-hans")
    owner.click("nav.mainnav a:has-text('借阅')")
    owner.click("#to-decide a:has-text('答复')")
    owner.fill("textarea[name=note]", "请直接给我打电话。")
    shot(owner, "loans-zh-3-decision")
    owner.click("#refuse")
    owner.wait_for_url(f"{live_server.url}/loans/decide/")
    assert "已拒绝申请" in owner.inner_text(".messages")

    page.goto(f"{live_server.url}/")
    assert "已有答复" in page.inner_text("#loan-answers")
    page.click("#loan-answers a")
    row = page.inner_text("#my-loans tbody tr")
    assert "已拒绝" in row and "请直接给我打电话。" in row
    shot(page, "loans-zh-4-refused")
    assert page.goto(f"{live_server.url}/customers/{east.pk}/").status == 404


def test_the_register_in_chinese(page, live_server, users, customers, shot):
    from kehu.loans.services import approve_loan, request_loan

    approve_loan(users["sales1"], request_loan(users["sales2"], customers["east"].name,
                                               "客户来电询问订单"))
    request_loan(users["manager2"], "Hangzhou Silk Co., Ltd.", "维修回访")
    sign_in(page, live_server, "manager1")
    switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/loans/register/")
    table = page.inner_text("#register")
    assert "借阅中" in table and "待审批" in table and customers["north"].name not in table
    shot(page, "loans-zh-5-register")
    with page.expect_download() as download:
        page.click("#register-csv")
    assert download.value.suggested_filename.startswith("kehu-loans-")
