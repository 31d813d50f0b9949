"""Stale data: when a card was last confirmed, the flag on the card and the list, and one
refresh task per stale card for its owner however often the job runs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.core import jobs
from kehu.core.errors import NotPermitted
from kehu.core.worker import run_pending
from kehu.customers.models import Customer
from kehu.customers.selectors import is_stale
from kehu.customers.services import confirm_customer_data
from kehu.dataio.quality.stale import STALE_DATA_ORIGIN, create_refresh_tasks
from kehu.tasks.models import Task, TaskStatus


def _age(customer, days):
    Customer.objects.filter(pk=customer.pk).update(
        created_at=timezone.now() - timedelta(days=days))
    customer.refresh_from_db()
    return customer


@pytest.fixture
def old(customers):
    """Every customer created 200 days ago, never confirmed."""
    return {k: _age(c, 200) for k, c in customers.items()}


@pytest.mark.django_db
def test_a_card_is_stale_when_nobody_confirmed_it_for_the_configured_time(customers, settings):
    fresh = customers["east"]
    assert not is_stale(fresh)
    assert is_stale(_age(fresh, 181))
    settings.KEHU_STALE_AFTER_DAYS = 365
    assert not is_stale(fresh)


@pytest.mark.django_db
def test_confirming_clears_the_flag_and_closes_the_task(old, users):
    east = old["east"]
    create_refresh_tasks()
    task = Task.objects.get(customer=east, origin=STALE_DATA_ORIGIN)
    with pytest.raises(NotPermitted):
        confirm_customer_data(users["sales2"], east)
    version = east.version
    east = confirm_customer_data(users["sales1"], east)
    assert not is_stale(east) and east.confirmed_by == users["sales1"]
    assert east.version == version  # an open edit form stays valid
    task.refresh_from_db()
    assert (task.closed_by, task.status) == (users["sales1"], TaskStatus.DONE)
    assert east.history.first().history_change_reason == "Data confirmed"
    assert AuditEvent.objects.get(action="customer.confirm").detail["tasks_closed"] == 1


@pytest.mark.django_db
def test_refresh_tasks_are_never_duplicated(old, users):
    assert create_refresh_tasks() == {"stale": 3, "created": 3}
    assert create_refresh_tasks() == {"stale": 0, "created": 0}
    task = Task.objects.get(customer=old["north"], origin=STALE_DATA_ORIGIN)
    assert (task.assignee, task.status) == (users["sales2"], TaskStatus.OPEN)
    assert task.due_on == timezone.localdate() + timedelta(days=14)
    # Even a second run racing the first cannot add another open one: the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(customer=old["north"], title="x", origin=STALE_DATA_ORIGIN)
    # Done but still stale (nobody confirmed): the next run gives a new one.
    task.status = TaskStatus.DONE
    task.save()
    assert create_refresh_tasks()["created"] == 1


@pytest.mark.django_db
def test_a_manager_makes_tasks_for_the_team_only(old, users):
    assert create_refresh_tasks(user=users["manager1"])["created"] == 2
    assert not Task.objects.filter(customer=old["north"]).exists()


@pytest.mark.django_db
def test_the_command(old):
    out = StringIO()
    call_command("stale", "--dry-run", stdout=out)
    assert "3 stale cards" in out.getvalue()
    out = StringIO()
    call_command("stale", stdout=out)
    assert "3 refresh tasks created" in out.getvalue()
    call_command("stale", stdout=out)
    assert "0 refresh tasks created" in out.getvalue()
    assert Task.objects.filter(origin=STALE_DATA_ORIGIN).count() == 3


@pytest.mark.django_db
def test_the_list_and_the_card_flag_stale_cards(old, customers, users):
    client = Client()
    client.force_login(users["admin"])
    fresh = customers["east_b"]
    Customer.objects.filter(pk=fresh.pk).update(confirmed_at=timezone.now())
    body = client.get(reverse("customers:list"), {"stale": "1"}).content.decode()
    assert "上海华东贸易有限公司" in body and "北京华北机械厂" in body
    assert "Hangzhou Silk" not in body
    assert body.count('class="badge stale"') == 2
    card = client.get(reverse("customers:card", args=[old["east"].pk])).content.decode()
    assert "never" in card and 'class="badge stale"' in card
    response = client.post(reverse("customers:confirm", args=[old["east"].pk]), follow=True)
    assert "confirmed as of today" in response.content.decode()
    assert 'class="badge stale"' not in response.content.decode()


@pytest.mark.django_db
def test_an_owner_marks_the_refresh_task_done(old, users):
    create_refresh_tasks()
    task = Task.objects.get(customer=old["east"])
    client = Client()
    client.force_login(users["sales1"])
    page = client.get(reverse("customers:card", args=[old["east"].pk]), {"tab": "tasks"})
    assert "Confirm or update the customer data" in page.content.decode()
    client.post(reverse("tasks:close", args=[old["east"].pk, task.pk]), {"action": "done"})
    task.refresh_from_db()
    assert task.closed_by == users["sales1"] and task.status == TaskStatus.DONE
    other = Client()
    other.force_login(users["sales2"])
    assert other.post(reverse("tasks:close", args=[old["east"].pk, task.pk])
                      ).status_code == 404


@pytest.mark.usefixtures("committed_db")
def test_managers_start_the_jobs_from_the_quality_page(old, users):
    client = Client()
    client.force_login(users["manager1"])
    assert "2" in client.get(reverse("dataio:quality")).content.decode()
    client.post(reverse("dataio:quality_run", args=["tasks"]))
    run_pending()
    job = jobs.get(jobs.Job.objects.get(kind="dataio.stale").pk)
    assert job.result == {"stale": 2, "created": 2}
    client.post(reverse("dataio:quality_run", args=["scan"]))
    run_pending()
    assert jobs.get(jobs.Job.objects.get(kind="dataio.dedup").pk).status == "done"
    page = client.get(reverse("dataio:quality")).content.decode()
    assert "Last scan" in page
    sales = Client()
    sales.force_login(users["sales1"])
    assert sales.post(reverse("dataio:quality_run", args=["tasks"])).status_code == 404
    assert "make-tasks" not in sales.get(reverse("dataio:quality")).content.decode()
