"""A customer's personalised offer list in a real browser, in English and in Chinese:
marketing builds the list on the card's Offers tab, reads why each product is on it and the
coupon, prints it, and a salesperson records the coupon used on an order."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language
from tests.marketing.conftest import buy, shop  # noqa: F401 — the hand-built shop

pytestmark = pytest.mark.browser


def test_marketing_builds_prints_and_a_salesperson_redeems_an_offer_list(
        page, live_server, users, shop, shot):  # noqa: F811
    sign_in(page, live_server, "marketing1")
    card = f"{live_server.url}/customers/{shop.li.pk}/?tab=offers"
    page.goto(card)
    assert "No offer list yet" in page.inner_text("#offers-none")
    with page.expect_navigation():
        page.click("button:has-text('Build a new list now')")
    assert "A new offer list was built." in page.inner_text("body")
    items = page.inner_text("#offer-items")
    assert "Fresh milk 1 L" in items and "usually every 7 days" in items
    assert "Coffee filters" in items
    assert "80% of the customers who bought Coffee beans 500 g" in items
    assert "Wholemeal bread" not in items and "Hand grinder" not in items
    coupon = page.inner_text("#offer-coupon")
    assert "Gold" in coupon and "15% off one purchase" in coupon
    shot(page, "en-offers-tab")
    with page.expect_popup() as popup:
        page.click("button:has-text('Print the list')")
    printed = popup.value
    printed.wait_for_load_state()
    assert "Personal offers for 李娜 Li Na" in printed.inner_text("h1")
    assert "Fresh milk 1 L" in printed.inner_text("#print-items")
    shot(printed, "en-offers-print")
    printed.close()
    page.reload()
    assert "Printed" in page.inner_text("#offer-sends")
    # E-mailed through the send service: without consent to e-mail it is held back, and the
    # list says why.
    with page.expect_navigation():
        page.click("#offer-email")
    assert "The offer list was not e-mailed: Not sent: no consent to e-mail" in page.inner_text(
        "body")
    assert "Not sent: no consent" in page.inner_text("#offer-sends")
    shot(page, "en-offers-email-held")
    page.goto(f"{live_server.url}/marketing/offers/")
    assert "Referrals" in page.inner_text("nav.subnav")
    assert "李娜 Li Na" in page.inner_text("#offer-lists")
    shot(page, "en-offers-page")

    switch_language(page, "zh-hans")
    page.goto(card)
    items = page.inner_text("#offer-items")
    assert "通常每 7 天购买一次" in items and "80%" in items
    assert "优惠券" in page.inner_text("#offer-coupon")
    assert "打印清单" in page.inner_text("main")
    shot(page, "zh-offers-tab")
    page.goto(f"{live_server.url}/marketing/offers/")
    assert "通过邮件发送尚未发送的当前清单" in page.inner_text("main")
    shot(page, "zh-offers-page")
    page.goto(card)

    # At the till: sales1 records the coupon used on today's order.
    order = buy(users["admin"], shop.li, shop.today, shop.products["coffee"])
    code = page.inner_text("#offer-coupons code")
    page.context.clear_cookies()
    sign_in(page, live_server, "sales1")
    switch_language(page, "zh-hans")
    page.goto(card)
    page.click("summary:has-text('登记订单使用的优惠券')")
    page.fill("input[name=code]", code)
    page.select_option("select[name=transaction]", str(order.pk))
    with page.expect_navigation():
        page.click("button:has-text('登记使用')")
    assert f"优惠券 {code} 已使用" in page.inner_text("body")
    assert "优惠 ¥4.50" in page.inner_text("#offer-coupons") or "4.50" in page.inner_text(
        "#offer-coupons")
    shot(page, "zh-offers-redeemed")
