"""The main path a salesperson takes, in a real browser, in English and in Chinese:
sign in, search, open the card, edit, and meet somebody else's concurrent change."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def switch_language(page, code: str) -> None:
    page.select_option("#lang-select", code)
    with page.expect_navigation():
        page.click(".langswitch button")


def search_and_open(page, query: str, name: str) -> None:
    page.fill("input[name=q]", query)
    # htmx swaps the table in place; wait for the row to be the only one.
    page.wait_for_function(
        "() => document.querySelectorAll('#customer-table tbody tr').length === 1")
    assert name in page.inner_text("#customer-table")
    page.click(f"#customer-table a:has-text('{name}')")
    page.wait_for_url(re.compile(r".*/customers/\d+/$"))


def edit_with_conflict(page, customer, other_user) -> None:
    from kehu.customers.services import update_customer

    page.click("a.btn.primary[href$='/edit/']")
    page.wait_for_url(re.compile(r".*/edit/$"))
    # Somebody else saves the card while this form is open.
    update_customer(other_user, customer, {"city": "南京"}, expected_version=customer.version)
    page.fill("input[name=city]", "苏州")
    page.fill("input[name=phone]", "021-8888-0000")
    page.click("form button.primary")
    page.wait_for_selector("#conflict")


def test_sales_flow_in_english(page, live_server, users, customers, shot):
    sign_in(page, live_server, "sales1")
    page.click(".mainnav a[href='/customers/']")
    page.wait_for_url(f"{live_server.url}/customers/")
    assert page.is_visible("text=New customer")
    shot(page, "en-1-list")
    search_and_open(page, "shanghai", "上海华东贸易有限公司")
    assert page.is_visible("text=Base data") and page.is_visible("text=Transaction status")
    shot(page, "en-2-card")
    page.click(".tabs a:has-text('History')")
    page.wait_for_selector("#tab-history")
    edit_with_conflict(page, customers["east"], users["manager1"])
    body = page.inner_text("main")
    assert "changed by manager1 since you opened it" in body
    assert "Saved now: 南京" in body
    assert page.input_value("input[name=city]") == "苏州"
    assert page.input_value("input[name=phone]") == "021-8888-0000"
    shot(page, "en-3-conflict")
    # Saving again, after seeing the other change, is a deliberate choice and works.
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/customers/\d+/$"))
    assert "Changes saved." in page.inner_text(".messages")
    customers["east"].refresh_from_db()
    assert customers["east"].city == "苏州"


def test_sales_flow_in_chinese(page, live_server, users, customers, shot):
    sign_in(page, live_server, "manager1")
    switch_language(page, "zh-hans")
    page.click(".mainnav a[href='/customers/']")
    page.wait_for_url(f"{live_server.url}/customers/")
    assert page.is_visible("text=新建客户")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    shot(page, "zh-1-list")
    search_and_open(page, "shhd", "上海华东贸易有限公司")
    for label in ("基础资料", "客户特征", "业务状况", "交易现状", "联系人"):
        assert page.is_visible(f".tabs a:has-text('{label}')"), label
    page.click(".tabs a:has-text('交易现状')")
    page.wait_for_selector("#tab-transaction")
    assert "信用状况" in page.inner_text("#tab-transaction")  # a manager sees the sensitive tier
    shot(page, "zh-2-card")
    edit_with_conflict(page, customers["east"], users["sales1"])
    assert "sales1" in page.inner_text(".errorlist.nonfield")
    assert page.input_value("input[name=city]") == "苏州"
    shot(page, "zh-3-conflict")


def test_phone_layout(browser, live_server, users, customers, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_server, "admin")
        # Nothing may stick out sideways on a phone except inside scrollable tables: on the
        # workbench one lands on, nor on the list.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        shot(page, "phone-0-workbench")
        page.goto(f"{live_server.url}/customers/")
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390
        shot(page, "phone-1-list")
        page.click("#customer-table a:has-text('上海华东贸易有限公司')")
        page.wait_for_url(re.compile(r".*/customers/\d+/$"))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        shot(page, "phone-2-card")
        # A tab far along the strip, once open, is scrolled into sight.
        page.goto(page.url + "?tab=history")
        visible = page.evaluate("""() => {
            const tab = document.querySelector('.tabs [aria-current="page"]');
            const strip = tab.closest('.tabs').getBoundingClientRect();
            const box = tab.getBoundingClientRect();
            return box.left >= strip.left - 1 && box.right <= strip.right + 1;
        }""")
        assert visible
        shot(page, "phone-3-card-history")
    finally:
        context.close()


def test_a_refused_edit_lists_its_errors_at_the_top_and_links_to_each(page, live_server, users,
                                                                      customers, shot):
    sign_in(page, live_server, "manager1")
    switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/customers/{customers['east'].pk}/edit/")
    page.fill("input[name=credit_limit]", "-100")
    page.fill("input[name=legal_rep_birth_year]", "3000")
    page.click("form button[type=submit].primary")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.is_visible()
    assert "未保存任何内容：有 2 个字段需要更正。" in summary.inner_text()
    assert summary.bounding_box()["y"] < 800  # on the first screen, not at the bottom
    shot(page, "zh-4-edit-errors", full_page=False)
    page.click(".error-summary a[href='#id_credit_limit']")
    assert page.evaluate("() => location.hash") == "#id_credit_limit"
    assert "不能为负数" in page.inner_text(".field.has-error:has(#id_credit_limit)")


def test_a_read_only_role_meets_a_translated_refusal(page, live_server, users, shot):
    sign_in(page, live_server, "analyst1")
    switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/customers/")
    assert page.locator("a:has-text('新建客户')").count() == 0
    response = page.goto(f"{live_server.url}/customers/new/")
    assert response.status == 403
    assert "无权访问" in page.inner_text("main")
    shot(page, "zh-5-forbidden", full_page=False)


def test_the_address_bar_keeps_only_the_filters_that_are_set(page, live_server, users,
                                                             customers):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/customers/")
    page.fill("input[name=q]", "shanghai")
    page.wait_for_function("() => location.search.includes('q=shanghai')")
    assert page.evaluate("() => location.search") == "?q=shanghai"
    assert "上海华东贸易有限公司" in page.inner_text("#customer-table")
