"""The card's Tasks tab in a real browser, in English and in Chinese: a salesperson adds a
task for a customer, is told that dismissing needs a reason, then marks it done."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


def _open_tasks_tab(page, live_server, customer) -> None:
    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=tasks")
    assert page.get_attribute("nav.tabs a[aria-current=page]", "href") == "?tab=tasks"


def _add(page, title: str, due: dt.date) -> None:
    page.click("#card-body details.panel summary")
    page.fill("input[name=title]", title)
    page.fill("input[name=due_on]", due.isoformat())
    page.select_option("select[name=priority]", "high")
    page.click("#card-body details.panel button.primary")


@pytest.mark.parametrize(("language", "texts"), [
    ("en", {"added": "Task added.", "needs_note": "note", "done": "Task done.",
            "open": "open", "status_done": "Done"}),
    ("zh-hans", {"added": "任务已添加", "needs_note": "", "done": "任务已完成",
                 "open": "未完成", "status_done": "已完成"}),
])
def test_a_task_is_added_refused_without_a_reason_and_done(page, live_server, users, customers,
                                                           shot, language, texts):
    east = customers["east"]
    sign_in(page, live_server, "sales1")
    if language != "en":
        switch_language(page, language)
    _open_tasks_tab(page, live_server, east)
    due = dt.date.today() + dt.timedelta(days=3)
    _add(page, "打电话确认春季订单", due)
    page.wait_for_url(f"{live_server.url}/customers/{east.pk}/?tab=tasks")
    assert texts["added"] in page.inner_text(".messages")
    item = page.locator("ol.timeline li.open-task", has_text="打电话确认春季订单")
    assert due.isoformat() in item.inner_text() and texts["open"] in item.inner_text()
    shot(page, f"tasks-{language}-1-added")

    # Dismissing without saying why is refused, and the task stays open.
    item.locator("button[value=dismiss]").click()
    page.wait_for_url(f"{live_server.url}/customers/{east.pk}/?tab=tasks")
    assert page.locator(".messages li.error").count() == 1
    assert page.locator("ol.timeline li.open-task", has_text="打电话确认春季订单").count() == 1
    shot(page, f"tasks-{language}-2-dismiss-refused")

    item = page.locator("ol.timeline li.open-task", has_text="打电话确认春季订单")
    item.locator("input[name=note]").fill("客户确认了")
    item.locator("button[value=done]").click()
    page.wait_for_url(f"{live_server.url}/customers/{east.pk}/?tab=tasks")
    assert texts["done"] in page.inner_text(".messages")
    closed = page.locator("ol.timeline li", has_text="打电话确认春季订单")
    assert texts["status_done"] in closed.inner_text() and "客户确认了" in closed.inner_text()
    assert page.locator("ol.timeline li.open-task", has_text="打电话确认春季订单").count() == 0
    shot(page, f"tasks-{language}-3-done")
