"""Reads of tasks, each limited to what the user may see."""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, QuerySet, Value, When

from kehu.core.permissions import VIEW, restrict
from kehu.tasks.models import Task, TaskStatus

# The most pressing first: open before closed, then by due date (none last).
_OPEN_FIRST = Case(When(status=TaskStatus.OPEN, then=Value(0)), default=Value(1),
                   output_field=IntegerField())
PRESSING = (_OPEN_FIRST, F("due_on").asc(nulls_last=True), F("closed_at").desc(nulls_last=True),
            "-id")


def tasks(user, action: str = VIEW) -> QuerySet[Task]:
    """Tasks about customers the user may see."""
    return restrict(Task.objects.select_related("customer", "lead", "assignee", "closed_by"), user,
                    action)


def tasks_of_customer(user, customer) -> QuerySet[Task]:
    return tasks(user).filter(customer=customer).order_by(*PRESSING)


def open_tasks_for(user, assignee) -> QuerySet[Task]:
    """The open tasks of `assignee` that `user` may see, the most pressing first."""
    return tasks(user).filter(assignee=assignee, status=TaskStatus.OPEN).order_by(*PRESSING)
