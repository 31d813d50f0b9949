"""The workbench (我的工作台): where every user lands, and what it tells them to do today."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.customers.models import Customer
from kehu.sales.services import log_activity
from kehu.tasks import services
from kehu.tasks.models import Task, TaskReminder, TaskStatus

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _task(user, customer, title, due=None, priority="normal", kind="todo", by=None):
    task = services.add_task(by or user, customer, title=title, due_on=due, priority=priority)
    if kind != "todo":
        Task.objects.filter(pk=task.pk).update(kind=kind)
    return task


def test_signing_in_lands_on_the_workbench_and_old_list_links_still_work(client, users):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "sales1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "My workbench" in page.content.decode()
    old = client.get("/", {"q": "华东", "state": "first"})
    assert old.status_code == 301
    assert old["Location"].startswith("/customers/?") and "state=first" in old["Location"]
    assert client.get(old["Location"]).status_code == 200


def test_my_tasks_come_overdue_and_due_today_first_then_by_priority_and_due_date(users,
                                                                                 customers):
    sales1, east = users["sales1"], customers["east"]
    today = timezone.localdate()
    day = dt.timedelta(days=1)
    _task(sales1, east, "Later, high", today + 3 * day, "high")
    _task(sales1, east, "Later, low", today + day, "low")
    _task(sales1, east, "Later, normal", today + 2 * day, "normal")
    _task(sales1, east, "Overdue, low", today - 5 * day, "low")
    _task(sales1, east, "Today, high", today, "high")
    _task(sales1, east, "Overdue, normal", today - day, "normal")
    _task(sales1, east, "No date, high", None, "high")
    _task(users["manager1"], east, "For my manager", today - day)  # not mine
    body = _client(sales1).get("/").content.decode()
    titles = re.findall(r'class="wb-task-title">([^<]+)<', body)
    assert titles == ["Today, high", "Overdue, normal", "Overdue, low", "Later, high",
                      "No date, high", "Later, normal", "Later, low"]
    # The reminder: overdue and due today, on the page and in the navigation.
    assert "2 tasks are overdue." in body and "1 task is due today." in body
    assert re.search(r'class="badge count due">3<', body)


def test_a_task_is_done_or_dismissed_with_a_note_in_place_or_without_javascript(users,
                                                                                customers):
    sales1 = users["sales1"]
    task = _task(sales1, customers["east"], "Call about the offer", timezone.localdate())
    client = _client(sales1)
    url = reverse("workbench:close_task", args=[task.pk])
    # Dismissing needs a note: said on the note's input, without JavaScript …
    page = client.post(url, {"action": "dismiss", "note": ""})
    assert page.status_code == 400
    body = page.content.decode()
    note = re.search(rf'<input[^>]*id="task-{task.pk}-note"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in note and f'task-{task.pk}-note_error' in note
    assert f'id="task-{task.pk}-note_error"' in body and "Say why" in body
    # … and with htmx, as the task's row.
    row = client.post(url, {"action": "dismiss", "note": ""}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and row.content.decode().lstrip().startswith(
        f'<li id="task-{task.pk}"')
    assert "Say why" in row.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    row = client.post(url, {"action": "dismiss", "note": "They closed the shop"},
                      HTTP_HX_REQUEST="true")
    assert "Task dismissed" in row.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.DISMISSED and task.note == "They closed the shop"
    other = _task(sales1, customers["east"], "Send the catalogue")
    done = client.post(reverse("workbench:close_task", args=[other.pk]), {"action": "done"})
    assert done.status_code == 302 and done["Location"] == "/"
    other.refresh_from_db()
    assert other.status == TaskStatus.DONE
    # Somebody else's customer's task is not there at all.
    theirs = _task(users["sales2"], customers["north"], "Not yours")
    assert client.post(reverse("workbench:close_task", args=[theirs.pk]),
                       {"action": "done"}).status_code == 404


def test_the_week_shows_my_visits_recorded_and_planned(users, customers):
    sales1, east = users["sales1"], customers["east"]
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    at = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(10, 30),
                             tzinfo=timezone.get_current_timezone())
    log_activity(sales1, east, kind="visit", subject="Visited the warehouse", occurred_at=at)
    log_activity(sales1, east, kind="call", subject="Just a call", occurred_at=at)
    _task(sales1, east, "Visit the new plant", monday + dt.timedelta(days=4), kind="visit")
    _task(sales1, east, "Next week's visit", monday + dt.timedelta(days=9), kind="visit")
    client = _client(sales1)
    body = client.get("/").content.decode()
    week = body[body.index('class="wb-calendar"'):]
    assert "Visited the warehouse" in week and "10:30" in week
    assert "Visit the new plant" in week
    assert "Just a call" not in week and "Next week&#x27;s visit" not in week
    days = re.findall(r'<li class="wb-day[^"]*"', week)
    assert len(days) == 7
    later = client.get("/", {"week": (monday + dt.timedelta(days=7)).isoformat()})
    assert "Next week&#x27;s visit" in later.content.decode()
    assert client.get("/", {"week": "not-a-date"}).status_code == 200


def test_my_customers_at_risk_come_the_most_valuable_first(users, customers):
    from kehu.analytics.models import CustomerValue, ValueRefresh

    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    sales1 = users["sales1"]
    small = Customer.objects.create(name="Small risk", owner=sales1, team_id=sales1.team_id)
    big = Customer.objects.create(name="Big risk", owner=sales1, team_id=sales1.team_id)
    calm = Customer.objects.create(name="Calm one", owner=sales1, team_id=sales1.team_id)
    for c, clv, risk in ((small, 100, True), (big, 9000, True), (calm, 50000, False)):
        CustomerValue.objects.create(customer=c, refresh=run, clv=clv, p_alive=0.3,
                                     at_risk=risk)
    body = _client(sales1).get("/").content.decode()
    risk = body[body.index('id="risk-h"'):body.index('id="week-h"')]
    assert risk.index("Big risk") < risk.index("Small risk") and "Calm one" not in risk
    # The read is audited: one row naming every customer the page shows.
    event = AuditEvent.objects.filter(action="customer.list").latest("pk")
    assert event.detail["list"] == "workbench"
    assert {big.pk, small.pk} <= set(event.detail["customers"])


def test_a_manager_reassigns_the_teams_overdue_tasks_in_bulk(users, customers, teams):
    teams["east"].share_customers = True
    teams["east"].save()
    east = customers["east"]
    late = timezone.localdate() - dt.timedelta(days=3)
    a = _task(users["sales1"], east, "Late one", late)
    b = _task(users["sales1"], east, "Late two", late)
    on_time = _task(users["sales1"], east, "Not late", timezone.localdate())
    manager = _client(users["manager1"])
    body = manager.get("/").content.decode()
    team = body[body.index('id="team"'):]
    assert "Late one" in team and "Late two" in team and "Not late" not in team
    response = manager.post(reverse("workbench:reassign"),
                            {"tasks": [a.pk, b.pk], "assignee": users["sales1b"].pk})
    assert response.status_code == 302
    assert set(Task.objects.filter(pk__in=[a.pk, b.pk]).values_list(
        "assignee__username", flat=True)) == {"sales1b"}
    on_time.refresh_from_db()
    assert on_time.assignee == users["sales1"]
    events = AuditEvent.objects.filter(action="task.assign", username="manager1")
    assert events.count() == 2 and all(e.detail["bulk"] and e.detail["to"] == "sales1b"
                                       for e in events)


def test_bulk_reassignment_is_refused_to_whom_it_may_not_go(users, customers, teams):
    east = customers["east"]
    late = timezone.localdate() - dt.timedelta(days=3)
    task = _task(users["sales1"], east, "Late one", late)
    url = reverse("workbench:reassign")
    # Not a manager: no such form.
    assert _client(users["sales1"]).post(url, {"tasks": [task.pk], "assignee":
                                               users["sales1"].pk}).status_code == 404
    # A person of another team is not on offer, said on the field.
    manager = _client(users["manager1"])
    page = manager.post(url, {"tasks": [task.pk], "assignee": users["sales2"].pk})
    assert page.status_code == 400
    body = page.content.decode()
    select = re.search(r'<select[^>]*name="assignee"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in select and "reassign-assignee_error" in select
    # sales1b may not see sales1's customer (the team does not share): nothing moves.
    page = manager.post(url, {"tasks": [task.pk], "assignee": users["sales1b"].pk})
    assert page.status_code == 400 and "may not see this customer" in page.content.decode()
    # Nothing selected.
    page = manager.post(url, {"assignee": users["manager1"].pk})
    assert page.status_code == 400 and "Select the tasks" in page.content.decode()
    # Another team's manager cannot reach these tasks.
    page = _client(users["manager2"]).post(url, {"tasks": [task.pk],
                                                 "assignee": users["manager2"].pk})
    assert page.status_code == 400
    task.refresh_from_db()
    assert task.assignee == users["sales1"]
    assert not AuditEvent.objects.filter(action="task.assign").exists()


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_reminders_are_mailed_once_per_task_when_it_falls_due(users, customers):
    today = timezone.localdate()
    sales1 = users["sales1"]
    sales1.email = "sales1@example.com"
    sales1.save()
    east = customers["east"]
    due = _task(sales1, east, "Due today", today)
    late = _task(sales1, east, "Overdue", today - dt.timedelta(days=2))
    _task(sales1, east, "Not yet", today + dt.timedelta(days=1))
    done = _task(sales1, east, "Done already", today)
    services.complete_task(sales1, done)
    _task(users["sales1b"], customers["east_b"], "No address", today)  # sales1b has none
    call_command("remind")
    assert sorted(m.subject for m in mail.outbox) == [
        f"Due today: Due today — {east.name}", f"Overdue: Overdue — {east.name}"]
    assert all(m.to == ["sales1@example.com"] for m in mail.outbox)
    assert "http" in mail.outbox[0].body and "/customers/" in mail.outbox[0].body
    call_command("remind")
    assert len(mail.outbox) == 2
    assert set(TaskReminder.objects.values_list("task_id", flat=True)) == {due.pk, late.pk}
    # Tomorrow, the task that falls due then is reminded, and only it.
    tomorrow = _task(sales1, east, "Tomorrow's", today + dt.timedelta(days=1))
    from kehu.tasks.reminders import send_reminders

    send_reminders(today + dt.timedelta(days=1))
    assert len(mail.outbox) == 4  # "Not yet" and "Tomorrow's"
    assert TaskReminder.objects.filter(task=tomorrow).exists()


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                   LANGUAGE_CODE="zh-hans")
def test_reminders_are_in_the_sites_language(users, customers):
    sales1 = users["sales1"]
    sales1.email = "sales1@example.com"
    sales1.save()
    _task(sales1, customers["east"], "拜访客户", timezone.localdate())
    call_command("remind")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("今天到期") and "客户：" in mail.outbox[0].body


def test_a_managers_team_panel_names_no_customer_out_of_reach(users, customers):
    """sales2 (North) borrowed an East customer and has an overdue task about it: their
    manager sees the task of their team member only about customers the manager may see."""
    from kehu.loans.services import approve_loan, request_loan
    from kehu.tasks.services import NewTask, open_tasks

    east, north = customers["east"], customers["north"]
    loan = request_loan(users["sales2"], east.name, "a joint offer")
    approve_loan(users["sales1"], loan)
    late = timezone.localdate() - dt.timedelta(days=2)
    open_tasks([NewTask(customer_id=c.pk, assignee_id=users["sales2"].pk, title=f"Late {c.pk}",
                        origin="rule:late", due_on=late) for c in (east, north)])
    body = _client(users["manager2"]).get("/").content.decode()
    team = body[body.index('id="team"'):]
    assert north.name in team and east.name not in body
    assert f"/customers/{east.pk}/" not in body
