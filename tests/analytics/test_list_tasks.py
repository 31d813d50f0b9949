"""A manager gives the owners of a value dashboard list's customers a task each: the ticked
ones or all of them, never a second open task from the same list, never to someone outside
their team, never for a customer they may not see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kehu.analytics.models import CustomerValue
from kehu.analytics.refresh import refresh_values
from kehu.audit.models import AuditEvent
from kehu.tasks.models import Task, TaskStatus
from tests.analytics.test_refresh import AS_OF, _simulated

pytestmark = pytest.mark.django_db

URL = "/value/lists/at_risk/tasks/"


@pytest.fixture
def at_risk(users):
    """A refreshed firm of sales1 (team East) and sales2 (North); three customers of each
    are flagged at risk."""
    sims = _simulated(users, n=60)
    refresh_values(users["admin"], as_of=AS_OF)
    CustomerValue.objects.update(at_risk=False)
    east = [c for c in sims if c.owner_id == users["sales1"].pk][:3]
    north = [c for c in sims if c.owner_id == users["sales2"].pk][:3]
    CustomerValue.objects.filter(customer__in=east + north).update(at_risk=True)
    return {"east": east, "north": north}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, data, url=URL):
    return client.post(url, {f"at_risk-{k}": v for k, v in data.items()}, follow=True)


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_an_admin_gives_the_owners_of_the_ticked_customers_a_task_each(users, at_risk):
    admin = _client(users["admin"])
    page = admin.get("/value/").content.decode()
    assert 'form="tasks-at_risk"' in page and "Give each customer's owner a task" in page
    picked = [at_risk["east"][0], at_risk["north"][0]]
    due = dt.date(2026, 7, 7)
    response = _post(admin, {"title": "Call this week", "due_on": due.isoformat(),
                             "priority": "high", "scope": "ticked",
                             "customer": [c.pk for c in picked]})
    assert "2 tasks made. Owners who got one: 2." in _said(response)
    tasks = {t.customer_id: t for t in Task.objects.filter(origin="list:at_risk")}
    assert set(tasks) == {c.pk for c in picked}
    for customer in picked:
        task = tasks[customer.pk]
        assert task.assignee_id == customer.owner_id  # the person responsible does it
        assert (task.title, task.due_on, task.priority, task.status) == (
            "Call this week", due, "high", TaskStatus.OPEN)
        assert "Valuable customers at risk" in task.reason
    event = AuditEvent.objects.get(action="task.create_from_list")
    assert sorted(event.detail["customers"]) == sorted(c.pk for c in picked)
    # The list used again: nobody gets a second open task from it.
    again = _post(admin, {"title": "Call this week", "priority": "normal", "scope": "all"})
    assert "4 tasks made" in _said(again)
    assert "2 customers still have an open task from this list." in _said(again)
    assert Task.objects.filter(origin="list:at_risk").count() == 6


def test_a_manager_gives_tasks_to_their_team_only(users, at_risk):
    manager = _client(users["manager1"])
    response = _post(manager, {"title": "Visit", "priority": "normal", "scope": "all"})
    assert "3 tasks made. Owners who got one: 1." in _said(response)
    assert {t.assignee.username for t in Task.objects.filter(origin="list:at_risk")} == \
        {"sales1"}
    # A customer of team North is not on this manager's list: naming it makes nothing.
    forged = _post(manager, {"title": "Visit", "priority": "normal", "scope": "ticked",
                             "customer": [at_risk["north"][1].pk]})
    assert "No tasks were made" in _said(forged)
    assert not Task.objects.filter(customer=at_risk["north"][1]).exists()


def test_nothing_ticked_or_no_title_is_refused_with_the_reason(users, at_risk):
    admin = _client(users["admin"])
    response = _post(admin, {"title": "Call", "priority": "normal", "scope": "ticked"})
    assert "Tick at least one customer" in _said(response)
    response = _post(admin, {"title": "  ", "priority": "normal", "scope": "all"})
    assert "No tasks were made" in _said(response)
    assert not Task.objects.filter(origin="list:at_risk").exists()


def test_a_customer_whose_owner_left_is_counted_not_given_a_task(users, at_risk):
    gone = users["sales2"]
    gone.is_active = False
    gone.save()
    response = _post(_client(users["admin"]), {"title": "Call", "priority": "normal",
                                               "scope": "all"})
    assert "3 tasks made" in _said(response)
    assert "3 customers' owners no longer work here" in _said(response)
    assert not Task.objects.filter(assignee=gone, origin="list:at_risk").exists()


@pytest.mark.parametrize("role", ["analyst1", "marketing1", "sales1"])
def test_who_may_not_give_others_tasks_sees_no_form_and_is_refused(users, at_risk, role):
    client = _client(users[role])
    page = client.get("/value/")
    assert 'form="tasks-at_risk"' not in page.content.decode()
    response = client.post(URL, {"at_risk-title": "x", "at_risk-priority": "normal",
                                 "at_risk-scope": "all"})
    assert response.status_code == 403
    assert not Task.objects.filter(origin="list:at_risk").exists()


def test_an_unknown_list_is_not_found(users, at_risk):
    response = _client(users["admin"]).post("/value/lists/everyone/tasks/", {})
    assert response.status_code == 404


def test_the_form_speaks_chinese(users, at_risk):
    client = _client(users["manager1"])
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/value/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "给每位客户的负责人派任务" in page


def test_the_queries_do_not_grow_with_the_list(users, at_risk, django_assert_max_num_queries):
    from kehu.customers.models import Customer
    from kehu.tasks.services import open_list_tasks

    picked = list(Customer.objects.filter(pk__in=[c.pk for c in at_risk["east"] +
                                                  at_risk["north"]]))
    with django_assert_max_num_queries(10):
        done = open_list_tasks(users["admin"], picked, origin="list:at_risk", title="Call")
    assert done.opened == 6 and done.assignees == 2
