"""The workbench in a real browser, in English and in Chinese: a salesperson lands on it,
sees what is overdue and due today, closes tasks in place (a dismissal without a note is
refused on the note's field), and a manager hands the team's overdue tasks to someone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser.test_ui_flow import sign_in, switch_language

pytestmark = pytest.mark.browser


@pytest.fixture
def workload(users, customers, teams):
    from kehu.analytics.models import CustomerValue, ValueRefresh
    from kehu.sales.services import log_activity
    from kehu.tasks.models import HeldBack, Task
    from kehu.tasks.services import add_task

    teams["east"].share_customers = True
    teams["east"].save()
    sales1, east = users["sales1"], customers["east"]
    today = timezone.localdate()
    day = dt.timedelta(days=1)
    monday = today - dt.timedelta(days=today.weekday())
    made = {}
    for key, title, due, priority in (
            ("late", "Call back about the late delivery", today - 3 * day, "high"),
            ("today", "Send the signed contract", today, "normal"),
            ("later", "Prepare the quarterly review", today + 5 * day, "low")):
        made[key] = add_task(sales1, east, title=title, due_on=due, priority=priority)
    visit = add_task(sales1, customers["east"], title="Visit the new warehouse",
                     due_on=monday + 3 * day)
    Task.objects.filter(pk=visit.pk).update(kind="visit")
    log_activity(sales1, east, kind="visit", subject="Met the buyer",
                 occurred_at=dt.datetime.combine(monday, dt.time(10),
                                                 tzinfo=timezone.get_current_timezone()))
    run = ValueRefresh.objects.create(as_of=today, status="done")
    CustomerValue.objects.create(customer=east, refresh=run, clv=12345, p_alive=0.31,
                                 at_risk=True, value_rank=3)
    HeldBack.objects.create(source="value_refresh", assignee=sales1,
                            origin="playbook:repeat", title="Repeat purchase: cross-sell",
                            count=12, list_query=f"owner={sales1.pk}&state=repeat")
    return made


def test_a_salesperson_lands_on_the_workbench_and_closes_tasks_in_place(page, live_server,
                                                                         workload, shot):
    from kehu.accounts.models import User
    from kehu.workbench.selectors import due_counts

    sign_in(page, live_server, "sales1")
    assert page.inner_text("h1") == "My workbench"
    due = due_counts(User.objects.get(username="sales1"))
    assert due.overdue >= 1 and due.today >= 1
    reminder = page.inner_text("#due-reminder")
    assert "overdue." in reminder and "due today." in reminder
    assert page.inner_text(".mainnav .badge.due").startswith(str(due.total))
    titles = page.locator(".wb-task-title").all_inner_texts()
    assert titles[0] == "Call back about the late delivery"  # overdue and high
    assert titles[-1] == "Prepare the quarterly review"  # not due yet
    assert "12 more customers need" in page.inner_text(".wb-held-back")
    assert "上海华东贸易有限公司" in page.inner_text(".wb-risk")
    assert "Met the buyer" in page.inner_text(".wb-calendar")
    assert "Visit the new warehouse" in page.inner_text(".wb-calendar")
    shot(page, "en-workbench")
    late = workload["late"]
    row = f"#task-{late.pk}"
    # Dismissing without a note: refused on the note's field, in place.
    page.click(f"{row} button[value=dismiss]")
    page.wait_for_selector(f"{row} .errorlist")
    note = page.locator(f"#task-{late.pk}-note")
    assert note.get_attribute("aria-invalid") == "true"
    assert f"task-{late.pk}-note_error" in note.get_attribute("aria-describedby")
    shot(page, "en-workbench-dismiss-refused", full_page=False)
    note.fill("They called us first")
    page.click(f"{row} button[value=dismiss]")
    page.wait_for_selector(f"{row} .msg.success")
    assert "Task dismissed" in page.inner_text(row)
    today_row = f"#task-{workload['today'].pk}"
    page.click(f"{today_row} button[value=done]")
    page.wait_for_selector(f"{today_row} .msg.success")
    assert page.url == f"{live_server.url}/"  # in place: no page load
    late.refresh_from_db()
    assert late.status == "dismissed" and late.note == "They called us first"
    shot(page, "en-workbench-closed")


def test_the_workbench_in_chinese_and_a_managers_bulk_reassignment(page, live_server, users,
                                                                  workload, shot):
    sign_in(page, live_server, "manager1")
    switch_language(page, "zh-hans")
    assert page.inner_text("h1") == "我的工作台"
    team = page.inner_text("#team")
    assert "我团队的逾期任务" in team and "Call back about the late delivery" in team
    shot(page, "zh-workbench-manager")
    late = workload["late"]
    page.check(f"#reassign-task-{late.pk}")
    page.select_option("#reassign-assignee", value=str(users["sales1b"].pk))
    page.click("#reassign-form button.primary")
    page.wait_for_selector(".messages .success")
    assert "已将 1 项任务交给" in page.inner_text(".messages")
    late.refresh_from_db()
    assert late.assignee == users["sales1b"]
    # A salesperson's workbench in Chinese.
    page.context.clear_cookies()
    sign_in(page, live_server, "sales1")
    switch_language(page, "zh-hans")
    body = page.inner_text("main")
    assert "我的任务" in body and "还有 12 位客户需要" in body and "我的流失风险客户" in body
    assert "今天到期" in body
    shot(page, "zh-workbench")
