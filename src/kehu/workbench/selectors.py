"""What a person's workbench (我的工作台) shows, each read limited to what the user may see:
their open tasks, the most pressing first; their customers at risk, the most valuable
first; the week's visits; what the last value refresh held back for them; and, for a
manager, the team's overdue tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from kehu.core import policy
from kehu.customers.models import Customer
from kehu.customers.selectors import customers
from kehu.sales.models import Activity, ActivityKind
from kehu.sales.selectors import activities
from kehu.tasks.models import HeldBack, Task, TaskKind, TaskPriority, TaskStatus
from kehu.tasks.selectors import tasks

AT_RISK_SHOWN = 10
TEAM_ROWS = 200


def _urgency(today: dt.date) -> tuple:
    """Overdue and due today first, then by priority (high first), then by due date (none
    last), then the newest."""
    due_now = Case(When(due_on__lte=today, then=Value(0)), default=Value(1),
                   output_field=IntegerField())
    priority = Case(When(priority=TaskPriority.HIGH, then=Value(0)),
                    When(priority=TaskPriority.NORMAL, then=Value(1)), default=Value(2),
                    output_field=IntegerField())
    return (due_now, priority, F("due_on").asc(nulls_last=True), "-id")


def my_tasks(user, today: dt.date | None = None) -> QuerySet[Task]:
    """The user's open tasks, the most pressing first."""
    today = today or timezone.localdate()
    return (tasks(user).filter(assignee=user, status=TaskStatus.OPEN).select_related("lead")
            .order_by(*_urgency(today)))


@dataclass
class Due:
    overdue: int
    today: int

    @property
    def total(self) -> int:
        return self.overdue + self.today


def due_counts(user, today: dt.date | None = None) -> Due:
    """How many of the user's open tasks are overdue and due today (the reminder)."""
    today = today or timezone.localdate()
    counts = tasks(user).filter(assignee=user, status=TaskStatus.OPEN,
                                due_on__lte=today).aggregate(
        overdue=Count("pk", filter=Q(due_on__lt=today)),
        today=Count("pk", filter=Q(due_on=today)))
    return Due(counts["overdue"] or 0, counts["today"] or 0)


def at_risk(user, limit: int = AT_RISK_SHOWN) -> list[Customer]:
    """The user's own customers flagged at risk by the last value refresh, the most
    valuable (by CLV) first."""
    qs = (customers(user).filter(owner=user, value__at_risk=True)
          .select_related("value")
          .order_by(F("value__clv").desc(nulls_last=True), "value__value_rank", "pk"))
    return list(qs[:limit])


def at_risk_count(user) -> int:
    return customers(user).filter(owner=user, value__at_risk=True).count()


@dataclass
class Visit:
    day: dt.date
    at: dt.datetime | None
    customer: Customer
    subject: str
    task: Task | None = None
    activity: Activity | None = None


def week_visits(user, monday: dt.date) -> list[Visit]:
    """The user's visits in the week starting `monday`: visits they recorded on the
    timeline and their tasks of kind visit due that week (open or done)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time(), tzinfo=tz)
    end = start + dt.timedelta(days=7)
    out = [Visit(day=timezone.localtime(a.occurred_at, tz).date(),
                 at=timezone.localtime(a.occurred_at, tz), customer=a.customer,
                 subject=a.subject, activity=a)
           for a in activities(user).filter(author=user, kind=ActivityKind.VISIT,
                                            occurred_at__gte=start, occurred_at__lt=end)
           .select_related("customer")]
    out += [Visit(day=t.due_on, at=None, customer=t.customer, subject=t.shown_title, task=t)
            for t in tasks(user).filter(assignee=user, kind=TaskKind.VISIT,
                                        customer__isnull=False,
                                        due_on__gte=monday,
                                        due_on__lt=monday + dt.timedelta(days=7))
            .exclude(status=TaskStatus.DISMISSED)]
    out.sort(key=lambda v: (v.day, v.at is None, v.at or start, v.customer.name))
    return out


def held_back(user) -> list[HeldBack]:
    """What the last value refresh held back for the user (the per-person cap)."""
    return list(HeldBack.objects.filter(assignee=user).order_by("-count", "origin"))


def team_overdue(user, today: dt.date | None = None) -> QuerySet[Task]:
    """For a manager (an admin: everybody), the open overdue tasks of the people they may
    give tasks to, on customers the manager may see; by person, then the oldest first."""
    if not policy.may_manage_team_tasks(user):
        return Task.objects.none()
    today = today or timezone.localdate()
    people = policy.assignable_owners(user)
    return (tasks(user).filter(status=TaskStatus.OPEN, due_on__lt=today, assignee__in=people)
            .select_related("lead").order_by("assignee__username", "due_on", "id"))
