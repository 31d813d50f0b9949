"""Stale opportunities: an open opportunity nobody touched — no edit, no move, no activity on
its customer — for PipelineSettings.stale_after_days gives its owner a task. One task per
opportunity (origin "opportunity_stale:<id>"), so that two stale opportunities of one
customer each have theirs; touching the opportunity, logging an activity on its customer or
closing it closes the task. Run daily by `kehu sales sweep`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.sales import sweeps
from kehu.sales.pipeline.models import Opportunity, PipelineSettings
from kehu.sales.pipeline.selectors import last_activity
from kehu.sales.pipeline.services import STALE_PREFIX, stale_origin
from kehu.tasks.models import Task, TaskStatus, register_rule
from kehu.tasks.services import NewTask, close_rule_tasks, open_tasks

SWEEP = "stale_opportunities"
TASK_DUE_IN = dt.timedelta(days=7)


def register() -> None:
    register_rule(f"{STALE_PREFIX}*", gettext_lazy("Follow up a stale opportunity"),
                  gettext_lazy("Nothing has happened on this opportunity for a while: call or "
                               "visit the customer, then move it to its stage, correct its "
                               "expected close date, or close it as won or lost."))
    sweeps.register(sweeps.Sweep(SWEEP, gettext_lazy("Stale opportunities"), run))


def _cutoff(today: dt.date, days: int) -> dt.datetime:
    """The start of the day `days` before `today`, in the firm's time zone: an opportunity
    last touched before it is stale."""
    day = today - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def stale(today: dt.date, days: int):
    """The open opportunities last touched before the cutoff, with `last_touch`."""
    return last_activity(Opportunity.objects.filter(stage__kind="open")).filter(
        last_touch__lt=_cutoff(today, days)).select_related("customer")


def run(today: dt.date) -> int:
    """Open a task for each stale opportunity that has none, close the tasks of those no
    longer stale (or gone). Returns how many tasks it opened."""
    days = PipelineSettings.current().stale_after_days
    found = list(stale(today, days).order_by("id"))
    opened = open_tasks([
        NewTask(customer_id=o.customer_id, assignee_id=o.owner_id,
                title=_("Follow up a stale opportunity"), origin=stale_origin(o.pk),
                reason=f"{o.title} · {timezone.localtime(o.last_touch):%Y-%m-%d}"[:300],
                due_on=today + TASK_DUE_IN)
        for o in found])
    still = {stale_origin(o.pk) for o in found}
    for customer_id, origin in Task.objects.filter(
            origin__startswith=STALE_PREFIX, status=TaskStatus.OPEN).values_list(
            "customer_id", "origin"):
        if origin not in still:
            close_rule_tasks(customer_id, origin, by=None)
    return opened


def activity_logged(customer_id: int, occurred_at: dt.datetime, *, by) -> int:
    """An activity on the customer touches all its opportunities: their stale tasks end
    (unless the activity is dated before the stale limit, which changes nothing)."""
    days = PipelineSettings.current().stale_after_days
    if occurred_at < _cutoff(timezone.localdate(), days):
        return 0
    closed = 0
    for origin in Task.objects.filter(customer_id=customer_id, origin__startswith=STALE_PREFIX,
                                      status=TaskStatus.OPEN).values_list("origin", flat=True):
        closed += close_rule_tasks(customer_id, origin, by=by)
    return closed
