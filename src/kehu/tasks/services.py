"""Opening and closing tasks. Rules open theirs through `open_tasks` (one open task per rule
and customer, however often the rule runs); people add, complete, dismiss and reassign tasks
through the services below. Each step is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, CONTRIBUTE, VIEW, can
from kehu.tasks.models import Task, TaskPriority, TaskStatus

CHUNK = 2000


@dataclass(frozen=True)
class NewTask:
    """A task a rule wants opened."""

    customer_id: int
    assignee_id: int | None
    title: str
    origin: str
    reason: str = ""
    due_on: dt.date | None = None
    priority: str = TaskPriority.NORMAL
    detail: str = ""


def open_tasks(new: Iterable[NewTask], *, by: User | None = None) -> int:
    """Open the tasks a rule found, skipping each customer that already has an open task of
    the same origin (a concurrent run's too: the database drops the repeats). Returns how
    many were opened. Runs inside the caller's transaction."""
    rows = [t for t in new if t.origin]
    opened = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        ids = [t.customer_id for t in chunk]
        origins = {t.origin for t in chunk}
        before = Task.objects.filter(customer_id__in=ids, origin__in=origins,
                                     status=TaskStatus.OPEN).count()
        Task.objects.bulk_create([
            Task(customer_id=t.customer_id, assignee_id=t.assignee_id, title=t.title[:200],
                 origin=t.origin, reason=t.reason[:300], due_on=t.due_on,
                 priority=t.priority, detail=t.detail, created_by=by)
            for t in chunk], ignore_conflicts=True)
        opened += Task.objects.filter(customer_id__in=ids, origin__in=origins,
                                      status=TaskStatus.OPEN).count() - before
    return opened


def close_rule_tasks(customer_id: int, origin: str, *, by: User | None, note: str = "") -> int:
    """Close the open task a rule made for a customer once what it asked for is done (the
    card's data confirmed …). Runs inside the caller's transaction; returns how many."""
    return Task.objects.filter(customer_id=customer_id, origin=origin,
                               status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, closed_at=timezone.now(), closed_by=by, note=note,
        updated_at=timezone.now())


def _check_assignee(user: User, customer, assignee: User | None) -> None:
    if assignee is None:
        return
    if not policy.may_assign_task(user, assignee):
        raise NotPermitted(_("You may give tasks only to yourself or, as a manager, to your "
                             "team."), field="assignee")
    if not can(assignee, VIEW, customer):
        raise ServiceError(_("%(user)s may not see this customer, so cannot do a task about "
                             "it.") % {"user": assignee}, field="assignee")


@transaction.atomic
def add_task(user: User, customer, *, title: str, assignee: User | None = None,
             due_on: dt.date | None = None, priority: str = TaskPriority.NORMAL,
             detail: str = "", ip: str | None = None, via: str = "web") -> Task:
    """A task somebody adds to a customer, for themselves unless they name another."""
    if not can(user, CONTRIBUTE, customer):
        raise NotPermitted(_("You may not add tasks to this customer."))
    assignee = assignee or user
    _check_assignee(user, customer, assignee)
    task = Task(customer=customer, title=(title or "").strip(), detail=detail or "",
                assignee=assignee, due_on=due_on, priority=priority, created_by=user)
    task.full_clean(exclude=["customer", "assignee", "created_by"])
    task.save()
    record(user, "task.create", obj=task, ip=ip, via=via,
           detail={"title": task.title, "assignee": assignee.username})
    return task


def may_close(user: User, task: Task) -> bool:
    """The person the task is for, or anybody who may change the customer."""
    return task.assignee_id == user.pk or can(user, CHANGE, task.customer)


def _locked_open(task: Task) -> Task:
    current = Task.objects.select_for_update().select_related("customer").get(pk=task.pk)
    if current.status != TaskStatus.OPEN:
        raise ServiceError(_("This task was already closed (%(status)s).")
                           % {"status": current.get_status_display()})
    return current


@transaction.atomic
def complete_task(user: User, task: Task, *, note: str = "", ip: str | None = None,
                  via: str = "web") -> Task:
    if not may_close(user, task):
        raise NotPermitted(_("You may not complete this task."))
    current = _locked_open(task)
    current.status, current.closed_at, current.closed_by = (TaskStatus.DONE, timezone.now(),
                                                            user)
    current.note = (note or "").strip()
    current.save(update_fields=["status", "closed_at", "closed_by", "note", "updated_at"])
    record(user, "task.done", obj=current, ip=ip, via=via, detail={"note": current.note})
    return current


@transaction.atomic
def dismiss_task(user: User, task: Task, *, note: str, ip: str | None = None,
                 via: str = "web") -> Task:
    """Close a task that is not to be done; the note says why (it teaches the rules)."""
    if not may_close(user, task):
        raise NotPermitted(_("You may not dismiss this task."))
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Say why the task is not to be done."), field="note")
    current = _locked_open(task)
    current.status, current.closed_at, current.closed_by = (TaskStatus.DISMISSED,
                                                            timezone.now(), user)
    current.note = note
    current.save(update_fields=["status", "closed_at", "closed_by", "note", "updated_at"])
    record(user, "task.dismiss", obj=current, ip=ip, via=via, detail={"note": note})
    return current


@transaction.atomic
def reassign_task(user: User, task: Task, assignee: User, *, ip: str | None = None,
                  via: str = "web") -> Task:
    current = _locked_open(task)
    if not can(user, CHANGE, current.customer) and current.assignee_id != user.pk:
        raise NotPermitted(_("You may not reassign this task."))
    _check_assignee(user, current.customer, assignee)
    before = current.assignee
    current.assignee = assignee
    current.save(update_fields=["assignee", "updated_at"])
    record(user, "task.assign", obj=current, ip=ip, via=via, detail={
        "from": getattr(before, "username", None), "to": assignee.username})
    return current
