"""Opening and closing tasks. Rules open theirs through `open_tasks` (one open task per rule
and customer, however often the rule runs); people add, complete, dismiss and reassign tasks
through the services below. Each step is audited."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CHANGE, CONTRIBUTE, VIEW, can, restrict
from kehu.customers.models import Customer
from kehu.tasks.models import HeldBack, Task, TaskKind, TaskPriority, TaskStatus

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
    kind: str = TaskKind.TODO


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
                 priority=t.priority, detail=t.detail, kind=t.kind, created_by=by)
            for t in chunk], ignore_conflicts=True)
        opened += Task.objects.filter(customer_id__in=ids, origin__in=origins,
                                      status=TaskStatus.OPEN).count() - before
    return opened


@dataclass
class Capped:
    """What open_capped_tasks did: tasks opened, and customers held back per person and
    rule."""

    opened: int = 0
    held_back: Counter = field(default_factory=Counter)  # (assignee id, origin) -> count


@dataclass(frozen=True)
class Candidate:
    """A customer a rule would give a task, before the task is written out: `build` makes
    the NewTask (its reason, its dates) only for those who get one, so that a run over a
    million customers holds back most of them without building their tasks."""

    customer_id: int
    assignee_id: int | None
    origin: str
    title: str
    build: Callable[[], NewTask]


def open_capped_tasks(candidates: Iterable[Candidate], *, cap: int, source: str,
                      origins: Collection[str], list_queries: dict[str, str] | None = None,
                      by: User | None = None) -> Capped:
    """Open the tasks a run of a rule found, in the order given (the most valuable customer
    first), at most `cap` new ones per person; the rest are held back and counted per person
    and rule in HeldBack rows of `source`, which replace those of the previous run. A
    customer who already has an open task of the rule costs nothing from the cap. `origins`
    are all the rules the run may open tasks for; `list_queries` gives, per origin, the
    customer list filter that shows such customers. Runs inside the caller's transaction."""
    have = set(Task.objects.filter(origin__in=list(origins), status=TaskStatus.OPEN)
               .values_list("customer_id", "origin"))
    given: Counter = Counter()
    taken: list[NewTask] = []
    out = Capped()
    titles: dict[str, str] = {}
    for c in candidates:
        if (c.customer_id, c.origin) in have:
            continue
        if c.assignee_id is not None and given[c.assignee_id] >= cap:
            out.held_back[(c.assignee_id, c.origin)] += 1
            titles.setdefault(c.origin, c.title)
            continue
        have.add((c.customer_id, c.origin))
        given[c.assignee_id] += 1
        taken.append(c.build())
    out.opened = open_tasks(taken, by=by)
    HeldBack.objects.filter(source=source).delete()
    queries = list_queries or {}
    HeldBack.objects.bulk_create([
        HeldBack(source=source, assignee_id=assignee, origin=origin,
                 title=titles[origin][:200], count=n,
                 list_query=_with_owner(queries.get(origin, ""), assignee))
        for (assignee, origin), n in sorted(out.held_back.items())])
    return out


def _with_owner(query: str, owner_id: int) -> str:
    return f"owner={owner_id}" + (f"&{query}" if query else "")


def close_rule_tasks(customer_id: int, origin: str, *, by: User | None, note: str = "") -> int:
    """Close the open task a rule made for a customer once what it asked for is done (the
    card's data confirmed …). Runs inside the caller's transaction; returns how many."""
    return Task.objects.filter(customer_id=customer_id, origin=origin,
                               status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, closed_at=timezone.now(), closed_by=by, note=note,
        updated_at=timezone.now())


def revise_rule_task(customer_id: int, origin: str, *, title: str, assignee_id: int | None,
                     due_on: dt.date | None) -> int:
    """Bring the open task a record made (a key-account plan's step) up to date with it
    after an edit. Runs inside the caller's transaction; returns how many."""
    return Task.objects.filter(customer_id=customer_id, origin=origin,
                               status=TaskStatus.OPEN).update(
        title=title[:200], assignee_id=assignee_id, due_on=due_on, updated_at=timezone.now())


def withdraw_rule_tasks(customer_id: int, origin: str, *, by: User | None,
                        note: str) -> int:
    """Dismiss the open task of a record that is gone (a plan step deleted), saying why.
    Runs inside the caller's transaction; returns how many."""
    return Task.objects.filter(customer_id=customer_id, origin=origin,
                               status=TaskStatus.OPEN).update(
        status=TaskStatus.DISMISSED, closed_at=timezone.now(), closed_by=by, note=note,
        updated_at=timezone.now())


def _may(user: User, action: str, task: Task) -> bool:
    """Whether `user` may take `action` on what the task is about (a customer or a lead)."""
    return restrict(Task.objects.filter(pk=task.pk), user, action).exists()


def _check_assignee(user: User, customer, assignee: User | None, task: Task | None = None
                    ) -> None:
    if assignee is None:
        return
    if not policy.may_assign_task(user, assignee):
        raise NotPermitted(_("You may give tasks only to yourself or, as a manager, to your "
                             "team."), field="assignee")
    if not (can(assignee, VIEW, customer) if task is None or task.customer_id
            else _may(assignee, VIEW, task)):
        raise ServiceError(_("%(user)s may not see this customer, so cannot do a task about "
                             "it.") % {"user": assignee}, field="assignee")


@transaction.atomic
def add_task(user: User, customer, *, title: str, assignee: User | None = None,
             due_on: dt.date | None = None, priority: str = TaskPriority.NORMAL,
             detail: str = "", kind: str = TaskKind.TODO, ip: str | None = None,
             via: str = "web") -> Task:
    """A task somebody adds to a customer, for themselves unless they name another."""
    if not can(user, CONTRIBUTE, customer):
        raise NotPermitted(_("You may not add tasks to this customer."))
    assignee = assignee or user
    _check_assignee(user, customer, assignee)
    task = Task(customer=customer, title=(title or "").strip(), detail=detail or "",
                assignee=assignee, due_on=due_on, priority=priority, kind=kind,
                created_by=user)
    task.full_clean(exclude=["customer", "assignee", "created_by"])
    task.save()
    record(user, "task.create", obj=task, ip=ip, via=via,
           detail={"title": task.title, "assignee": assignee.username})
    return task


def may_close(user: User, task: Task, *, may_change_customer: bool | None = None) -> bool:
    """The person the task is for, or anybody who may change what it is about (the
    customer, or the lead). A page listing many tasks of one customer passes whether the
    user may change it, asked once."""
    if task.assignee_id == user.pk:
        return True
    if may_change_customer is not None and task.customer_id:
        return may_change_customer
    return _may(user, CHANGE, task)


def _locked_open(task: Task) -> Task:
    current = Task.objects.select_for_update(of=("self",)).select_related("customer").get(
        pk=task.pk)
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
    if not _may(user, CHANGE, current) and current.assignee_id != user.pk:
        raise NotPermitted(_("You may not reassign this task."))
    _check_assignee(user, current.customer, assignee, current)
    before = current.assignee
    current.assignee = assignee
    current.save(update_fields=["assignee", "updated_at"])
    record(user, "task.assign", obj=current, ip=ip, via=via, detail={
        "from": getattr(before, "username", None), "to": assignee.username})
    return current


@transaction.atomic
def reassign_tasks(user: User, tasks: Sequence[Task], assignee: User, *,
                   ip: str | None = None, via: str = "web") -> int:
    """Give several open tasks to one person (a manager's bulk reassignment): all of them
    or, if any may not go, none. Each move is audited. Returns how many moved."""
    if not policy.may_assign_task(user, assignee):
        raise NotPermitted(_("You may give tasks only to yourself or, as a manager, to your "
                             "team."), field="assignee")
    moved = 0
    for task in tasks:
        current = _locked_open(task)
        if not _may(user, CHANGE, current) and current.assignee_id != user.pk:
            raise NotPermitted(_("You may not reassign the task “%(task)s”.")
                               % {"task": current.shown_title})
        _check_assignee(user, current.customer, assignee, current)
        if current.assignee_id == assignee.pk:
            continue
        before = current.assignee
        current.assignee = assignee
        current.save(update_fields=["assignee", "updated_at"])
        record(user, "task.assign", obj=current, ip=ip, via=via, detail={
            "from": getattr(before, "username", None), "to": assignee.username,
            "bulk": True})
        moved += 1
    return moved


@dataclass(frozen=True)
class ListTasks:
    """What open_list_tasks did."""

    opened: int  # new tasks
    already_open: int  # customers that still had an open task from the same list
    owner_inactive: int  # customers whose owner no longer works here
    not_yours: int  # customers whose owner the user may not give tasks to
    assignees: int  # people who got at least one of the new tasks


@transaction.atomic
def open_list_tasks(user: User, customers: Sequence, *, origin: str, title: str,
                    reason: str = "", due_on: dt.date | None = None,
                    priority: str = TaskPriority.NORMAL, ip: str | None = None,
                    via: str = "web") -> ListTasks:
    """One task per customer picked from a list (the value dashboard's customers at risk,
    its unprofitable customers, a cell of the intention grid), each for the customer's
    owner: the person responsible does the work. `origin` names the list, so a customer
    who still has an open task from it gets no second one however often the list is used.
    A customer whose owner is no longer active, or whose owner the user may not give tasks
    to (a manager gives tasks to their team), is counted and skipped. Audited as one event."""
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("Say what the task is."), field="title")
    if priority not in TaskPriority.values:
        raise ServiceError(_("Choose a priority from the list."), field="priority")
    ids = {c.pk for c in customers}
    # One query for the lot: whether the user sees each of them, and their owners.
    visible = list(restrict(Customer.objects.filter(pk__in=ids), user, VIEW)
                   .select_related("owner").order_by("pk"))
    if len(visible) != len(ids):
        raise NotPermitted(_("You may not see one of these customers."))
    new, owner_inactive, not_yours, assignees = [], 0, 0, set()
    for customer in visible:
        owner = customer.owner
        if not owner.is_active:
            owner_inactive += 1
            continue
        if not policy.may_assign_task(user, owner):
            not_yours += 1
            continue
        new.append(NewTask(customer_id=customer.pk, assignee_id=owner.pk, title=title[:200],
                           origin=origin, reason=reason, due_on=due_on, priority=priority))
        assignees.add(owner.pk)
    opened = open_tasks(new, by=user)
    if new:
        record(user, "task.create_from_list", ip=ip, via=via, detail={
            "list": origin, "title": title, "opened": opened,
            "customers": [t.customer_id for t in new]})
    return ListTasks(opened=opened, already_open=len(new) - opened,
                     owner_inactive=owner_inactive,
                     not_yours=not_yours, assignees=len(assignees))
