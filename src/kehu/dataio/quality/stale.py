"""Stale data (过期数据, DOMAIN.md §1 dynamic management): cards whose key facts nobody has
confirmed for KEHU_STALE_AFTER_DAYS get a refresh task for their owner — one open task per
card, however often this runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import CHANGE, restrict
from kehu.audit.services import record
from kehu.core.jobs import Progress
from kehu.customers.models import Customer
from kehu.customers.selectors import stale_q
from kehu.customers.services import STALE_DATA_ORIGIN
from kehu.sales.models import Activity, ActivityKind

TASK_DUE_IN = timedelta(days=14)
CHUNK = 2000


def stale_customers(user=None):
    """Stale cards without an open refresh task; those the user may change, if one is given."""
    open_task = Activity.objects.filter(customer=OuterRef("pk"), origin=STALE_DATA_ORIGIN,
                                        done_at__isnull=True)
    qs = Customer.objects.filter(stale_q()).exclude(Exists(open_task))
    if user is not None:
        qs = restrict(qs, user, CHANGE)
    return qs


def create_refresh_tasks(progress: Progress | None = None, *, user=None,
                         via: str = "cli") -> dict[str, Any]:
    """A task "confirm or update the customer data" for the owner of each stale card that has
    none open. Returns {"stale": cards found, "created": tasks made}."""
    now = timezone.now()
    due = timezone.localdate() + TASK_DUE_IN
    subject = _("Confirm or update the customer data")
    ids = list(stale_customers(user).order_by("pk").values_list("pk", "owner_id"))
    if progress:
        progress.report(0, total=len(ids), message=_("Creating refresh tasks"))
    created = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        before = Activity.objects.filter(origin=STALE_DATA_ORIGIN, done_at__isnull=True,
                                         customer_id__in=[pk for pk, _o in chunk]).count()
        # A concurrent run may have made some of these meanwhile: the partial unique index
        # (one open task per origin and customer) drops them instead of failing.
        Activity.objects.bulk_create([
            Activity(customer_id=pk, kind=ActivityKind.TASK, subject=subject, occurred_at=now,
                     assigned_to_id=owner_id, due_on=due, origin=STALE_DATA_ORIGIN)
            for pk, owner_id in chunk], ignore_conflicts=True)
        after = Activity.objects.filter(origin=STALE_DATA_ORIGIN, done_at__isnull=True,
                                        customer_id__in=[pk for pk, _o in chunk]).count()
        created += after - before
        if progress:
            progress.report(start + len(chunk))
    record(user, "quality.refresh_tasks", via=via, detail={"stale": len(ids),
                                                           "created": created})
    return {"stale": len(ids), "created": created}


def create_refresh_tasks_as(progress: Progress, user_id: int) -> dict[str, Any]:
    """The refresh tasks as a background job, started by a user on the data quality page:
    only for the cards that user may change."""
    return create_refresh_tasks(progress, user=User.objects.get(pk=user_id), via="web")
