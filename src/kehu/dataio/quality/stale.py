"""Stale data (过期数据, DOMAIN.md §1 dynamic management): cards whose key facts nobody has
confirmed for KEHU_STALE_AFTER_DAYS get a refresh task for their owner — one open task per
card, however often this runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core.jobs import Progress
from kehu.core.permissions import CHANGE, restrict
from kehu.customers.models import Customer
from kehu.customers.selectors import stale_q
from kehu.customers.signals import data_confirmed
from kehu.tasks.models import Task, TaskStatus, register_rule
from kehu.tasks.services import NewTask, close_rule_tasks, open_tasks

# The rule that asks an owner to confirm a stale card (kehu.tasks origin).
STALE_DATA_ORIGIN = "stale_data"
TASK_DUE_IN = timedelta(days=14)
CHUNK = 2000


def register() -> None:
    """Name the rule's tasks in the reader's language, and close a card's open refresh task
    when somebody confirms its data."""
    register_rule(STALE_DATA_ORIGIN, gettext_lazy("Confirm or update the customer data"),
                  gettext_lazy("Check that the card's base data (name, phones, e-mail, "
                               "address) is still true, correct what is not, then press "
                               "“Confirm data” on the card."))
    data_confirmed.connect(_confirmed, dispatch_uid="kehu.dataio.stale.confirmed")


def _confirmed(sender, customer, user, **kwargs) -> int:
    return close_rule_tasks(customer.pk, STALE_DATA_ORIGIN, by=user)


def stale_customers(user=None):
    """Stale cards without an open refresh task; those the user may change, if one is given."""
    open_task = Task.objects.filter(customer=OuterRef("pk"), origin=STALE_DATA_ORIGIN,
                                    status=TaskStatus.OPEN)
    qs = Customer.objects.filter(stale_q()).exclude(Exists(open_task))
    if user is not None:
        qs = restrict(qs, user, CHANGE)
    return qs


def create_refresh_tasks(progress: Progress | None = None, *, user=None,
                         via: str = "cli") -> dict[str, Any]:
    """A task "confirm or update the customer data" for the owner of each stale card that has
    none open. Returns {"stale": cards found, "created": tasks made}."""
    due = timezone.localdate() + TASK_DUE_IN
    title = _("Confirm or update the customer data")
    ids = list(stale_customers(user).order_by("pk").values_list("pk", "owner_id"))
    if progress:
        progress.report(0, total=len(ids), message=_("Creating refresh tasks"))
    created = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        created += open_tasks([NewTask(customer_id=pk, assignee_id=owner_id, title=title,
                                       origin=STALE_DATA_ORIGIN, due_on=due)
                               for pk, owner_id in chunk], by=user)
        if progress:
            progress.report(start + len(chunk))
    record(user, "quality.refresh_tasks", via=via, detail={"stale": len(ids),
                                                           "created": created})
    return {"stale": len(ids), "created": created}


def create_refresh_tasks_as(progress: Progress, user_id: int) -> dict[str, Any]:
    """The refresh tasks as a background job, started by a user on the data quality page:
    only for the cards that user may change."""
    return create_refresh_tasks(progress, user=User.objects.get(pk=user_id), via="web")
