"""Tasks: one home for the work every app asks people to do about a customer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError
from kehu.tasks import services
from kehu.tasks.models import Task, TaskStatus
from kehu.tasks.services import NewTask, open_tasks

pytestmark = pytest.mark.django_db


def test_a_rule_opens_one_task_per_customer_however_often_it_runs(users, customers):
    new = [NewTask(customer_id=c.pk, assignee_id=c.owner_id, title="Call", origin="rule:x",
                   reason="P(alive) fell to 0.31") for c in customers.values()]
    assert open_tasks(new) == 3
    assert open_tasks(new) == 0
    task = Task.objects.get(customer=customers["east"], origin="rule:x")
    services.complete_task(users["sales1"], task)
    assert open_tasks(new) == 1  # done, and the rule still sees it: a new one


def test_people_add_complete_and_dismiss_tasks(users, customers):
    east = customers["east"]
    task = services.add_task(users["sales1"], east, title="Send the quote",
                             due_on=dt.date(2030, 1, 1))
    assert task.assignee == users["sales1"] and task.status == TaskStatus.OPEN
    with pytest.raises(ServiceError, match="why"):
        services.dismiss_task(users["sales1"], task, note=" ")
    services.dismiss_task(users["sales1"], task, note="They bought elsewhere")
    task.refresh_from_db()
    assert task.status == TaskStatus.DISMISSED and task.note == "They bought elsewhere"
    with pytest.raises(ServiceError, match="already closed"):
        services.complete_task(users["sales1"], task)
    assert list(AuditEvent.objects.filter(action__startswith="task.").values_list(
        "action", flat=True).order_by("id")) == ["task.create", "task.dismiss"]


def test_tasks_go_only_to_people_the_user_may_give_them_to(users, customers):
    east = customers["east"]
    with pytest.raises(NotPermitted):
        services.add_task(users["sales1"], east, title="x", assignee=users["sales1b"])
    task = services.add_task(users["manager1"], east, title="x", assignee=users["sales1"])
    with pytest.raises(ServiceError, match="may not see"):
        services.reassign_task(users["manager1"], task, users["sales1b"])  # not their customer
    with pytest.raises(NotPermitted):
        services.add_task(users["manager1"], east, title="x", assignee=users["sales2"])


def test_the_card_shows_a_customers_tasks_and_closes_them(users, customers):
    east = customers["east"]
    services.add_task(users["sales1"], east, title="Visit the new plant")
    client = Client()
    client.force_login(users["sales1"])
    page = client.get(reverse("customers:card", args=[east.pk]), {"tab": "tasks"})
    body = page.content.decode()
    assert "Visit the new plant" in body and 'aria-current="page"' in body
    response = client.post(reverse("tasks:add", args=[east.pk]),
                           {"title": "", "priority": "normal"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    client.post(reverse("tasks:add", args=[east.pk]), {"title": "Call back", "priority": "high"})
    task = Task.objects.get(title="Call back")
    assert task.priority == "high" and task.assignee == users["sales1"]
    client.post(reverse("tasks:close", args=[east.pk, task.pk]), {"action": "done",
                                                                  "note": "Done by phone"})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.note == "Done by phone"


def test_the_api_lists_the_callers_tasks_and_a_manager_may_read_the_teams(api, users,
                                                                         customers):
    mine = services.add_task(users["sales1"], customers["east"], title="Mine")
    services.add_task(users["sales2"], customers["north"], title="Theirs")
    sales1 = api("sales1")
    page = sales1.get("/api/v1/tasks", status="open").json()
    assert [t["title"] for t in page["items"]] == ["Mine"]
    item = page["items"][0]
    assert {"id", "customer", "assignee", "due", "priority", "reason", "status"} <= set(item)
    assert sales1.get("/api/v1/tasks", assignee="sales2").status_code == 403
    manager = api("manager1")
    assert [t["title"] for t in manager.get("/api/v1/tasks", assignee="sales1").json()[
        "items"]] == ["Mine"]
    assert manager.get("/api/v1/tasks", assignee="sales2").status_code == 403
    done = sales1.patch(f"/api/v1/tasks/{mine.pk}", {"status": "done", "note": "ok"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert api("sales2").patch(f"/api/v1/tasks/{mine.pk}", {"status": "done"}
                               ).status_code == 404


def test_a_merge_keeps_one_open_task_per_rule(users, customers):
    from kehu.dataio.quality.merge import merge_customers

    east, east_b = customers["east"], customers["east_b"]
    open_tasks([NewTask(customer_id=c.pk, assignee_id=c.owner_id, title="Confirm",
                        origin="stale_data") for c in (east, east_b)])
    merge_customers(users["manager1"], east, east_b, survivor_version=None, loser_version=None)
    assert Task.objects.filter(customer=east, origin="stale_data",
                               status=TaskStatus.OPEN).count() == 1
    assert Task.objects.filter(customer=east, origin="stale_data",
                               status=TaskStatus.DISMISSED).count() == 1


def test_every_state_has_its_playbook_again_after_the_database_is_emptied():
    """A flush (which tests do; it leaves none of the migrations' rows) ends with
    post_migrate: each state's playbook comes back, and one an admin edited is kept."""
    from django.core.management.sql import emit_post_migrate_signal

    from kehu.tasks.models import PLAYBOOK_DEFAULTS, Playbook

    Playbook.objects.exclude(state="first").delete()
    Playbook.objects.filter(state="first").update(due_in_days=3)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    books = {p.state: (p.create_task, p.kind, p.priority, p.due_in_days)
             for p in Playbook.objects.all()}
    expected = dict(PLAYBOOK_DEFAULTS)
    expected["first"] = (*expected["first"][:3], 3)
    assert books == expected
