"""Tickets in a real browser: an agent works a complaint on the ticket page with the
customer's whole picture beside it, on a phone (390×844), in English and in Chinese; and
opens a new ticket from the queue on a desktop."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.analytics.models import CustomerValue, ValueRefresh
from kehu.customers.services import create_transaction
from kehu.service.tickets import services
from kehu.service.tickets.models import Ticket
from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


@pytest.fixture
def complaint(users, customers, children):
    east = customers["east"]
    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    CustomerValue.objects.create(customer=east, refresh=run, segment="invest",
                                 loyalty_index=81.0, purchase_days=5, value_percentile=95.0)
    create_transaction(users["admin"], east, date=dt.date(2026, 11, 20), amount="12800.00")
    earlier = services.open_ticket(users["admin"], east, subject="发票抬头错误", kind="request")
    services.close_ticket(users["admin"], earlier)
    return services.open_ticket(users["admin"], east, subject="订单迟到两周", kind="complaint",
                                priority="high", description="门店活动都错过了。")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_agent_works_a_complaint_on_a_phone(browser, live_server, users, complaint, shot,
                                               language):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US",
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, "service1")
        zh = language == "zh-hans"
        if zh:
            switch_language(page, "zh-hans")
        page.goto(f"{live_server.url}/service/tickets/{complaint.pk}/")
        picture = page.locator("#agent-picture").inner_text()
        expected = (["当前价值高、潜在价值高", "81 / 100", "历史工单", "发票抬头错误",
                     "进行中的商机", "最近购买", "sales1"] if zh else
                    ["High current, high potential", "81 / 100", "Past tickets",
                     "发票抬头错误", "Open opportunities", "Recent purchases", "sales1"])
        for text in expected:
            assert text in picture, text
        assert ("投诉" if zh else "Complaint") in page.inner_text("#ticket-badges")
        # Nothing is wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"ticket-phone-{language}")
        page.select_option("#id_kind", "reply")
        page.fill("#id_body", "非常抱歉，运费全额退还。" if zh else "Sorry: shipping refunded.")
        page.fill("#id_minutes", "20")
        with page.expect_navigation():
            page.click("#entry-form button[type=submit]")
        assert ("已添加到对话记录" if zh else "Added to the conversation") in page.content()
        page.select_option("#id_status", "resolved")
        with page.expect_navigation():
            page.click("#status-form button[type=submit]")
        badges = page.inner_text("#ticket-badges")
        assert ("已解决" if zh else "Resolved") in badges
        assert ("20 分钟" if zh else "20 min") in page.inner_text("#ticket-time")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"ticket-resolved-phone-{language}")
        ticket = Ticket.objects.get(pk=complaint.pk)
        assert ticket.status == "resolved" and ticket.minutes_spent == 20
    finally:
        context.close()


def test_a_new_ticket_from_the_queue(page, live_server, users, customers, shot):
    sign_in(page, live_server, "service1")
    page.click("nav.mainnav a:has-text('Service')")
    page.click("#new-ticket")
    page.fill("#customer-q", "Hangzhou")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.click("#customer-choices a:has-text('Hangzhou Silk')")
    page.fill("#id_subject", "Silk printer jams")
    page.select_option("#id_kind", "repair")
    page.fill("#id_description", "Every page jams")
    with page.expect_navigation():
        page.click("#ticket-form button[type=submit]")
    assert "Silk printer jams" in page.inner_text("h1")
    page.click("nav.subnav a:has-text('My tickets')")
    assert "Silk printer jams" in page.inner_text("#ticket-queue")
    shot(page, "ticket-queue-en")


def test_service_levels_in_the_queue_and_the_agent_view_in_both_languages(
        page, live_server, users, customers, shot):
    from kehu.service.sla import sweep

    east = customers["east"]
    now = timezone.now()
    late = services.open_ticket(users["admin"], east, subject="音响系统无声", priority="low",
                                at=now - dt.timedelta(days=12))
    services.open_ticket(users["admin"], east, subject="唱片有划痕", priority="urgent", at=now)
    sweep.run(now)
    sign_in(page, live_server, "service1")
    for language in ("en", "zh-hans"):
        zh = language == "zh-hans"
        if zh:
            switch_language(page, "zh-hans")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{live_server.url}/service/tickets/?status=active&sort=time_left")
        first = page.locator("#ticket-queue tbody tr").first
        assert late.number in first.inner_text()
        assert ("已超时" if zh else "overdue") in first.locator(".sla-badge").inner_text()
        shot(page, f"ticket-queue-sla-{language}")
        page.select_option("#id_sla", "breached")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert page.locator("#ticket-queue tbody tr").count() == 1
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/service/tickets/{late.pk}/")
        assert ("服务等级" if zh else "Service level") in page.inner_text("#sla-clock")
        with page.expect_navigation():
            page.click(f"main p.muted a[href='/service/customers/{east.pk}/']")
        picture = page.locator("#agent-picture")
        assert picture.locator(".sla-breached").count() == 1
        assert ("满意度" if zh else "Satisfaction") in picture.locator(
            "#agent-satisfaction").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"agent-view-phone-{language}")
