"""Tasks used to be activities of kind "task": the migration moves each one, losing nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("sales", "0002_activity_tasks"), ("tasks", "0001_initial"),
          ("analytics", "0003_mbgnbd_choice")]
AFTER = [("sales", "0003_tasks_moved_out"), ("tasks", "0002_move_activity_tasks")]


@pytest.mark.slow
@pytest.mark.postgresql_only
@pytest.mark.usefixtures("committed_db")
def test_old_activity_tasks_become_tasks():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User = apps.get_model("accounts", "User")
    Customer = apps.get_model("customers", "Customer")
    Activity = apps.get_model("sales", "Activity")
    owner = User.objects.create(username="old-owner")
    customer = Customer.objects.create(name="老客户", owner=owner, search_text="laokehu")
    now = timezone.now()
    Activity.objects.create(customer=customer, kind="task", subject="确认客户资料",
                            body="请核对", occurred_at=now, author=None, assigned_to=owner,
                            due_on=now.date(), origin="stale_data")
    Activity.objects.create(customer=customer, kind="task", subject="回访", occurred_at=now,
                            author=owner, assigned_to=owner, done_at=now, done_by=owner)
    Activity.objects.create(customer=customer, kind="call", subject="电话", occurred_at=now)
    apps.get_model("analytics", "ActivityCost").objects.update_or_create(
        kind="task", defaults={"unit_cost": 10})

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Task = apps.get_model("tasks", "Task")
    tasks = {t.title: t for t in Task.objects.all()}
    assert set(tasks) == {"确认客户资料", "回访"}
    stale = tasks["确认客户资料"]
    assert (stale.status, stale.origin, stale.assignee_id, stale.detail) == (
        "open", "stale_data", owner.pk, "请核对")
    done = tasks["回访"]
    assert (done.status, done.closed_by_id, done.created_by_id) == ("done", owner.pk, owner.pk)
    remaining = apps.get_model("sales", "Activity").objects.all()
    assert [a.kind for a in remaining] == ["call"]
    assert not apps.get_model("analytics", "ActivityCost").objects.filter(kind="task").exists()
    # Leave the database as the other tests expect it.
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph
                                          .leaf_nodes())
