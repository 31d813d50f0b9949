"""Writes to the activity timeline."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.permissions import CHANGE, CONTRIBUTE, can
from kehu.audit.services import record
from kehu.core.errors import NotPermitted, ServiceError
from kehu.sales.models import Activity, ActivityKind


@transaction.atomic
def log_activity(user, customer, *, kind: str, subject: str, body: str = "",
                 occurred_at: datetime | None = None, contact=None, ip: str | None = None,
                 via: str = "web") -> Activity:
    if not can(user, CONTRIBUTE, customer):
        raise NotPermitted(_("You may not add activities to this customer."))
    if contact is not None and contact.customer_id != customer.pk:
        raise NotPermitted(_("That contact belongs to another customer."), field="contact")
    activity = Activity(customer=customer, contact=contact, kind=kind, subject=subject,
                        body=body, occurred_at=occurred_at or timezone.now(), author=user)
    activity.full_clean(exclude=["customer", "contact", "author"])
    if kind not in ActivityKind.values:
        raise NotPermitted(_("Unknown activity kind."), field="kind")
    activity.save()
    record(user, "activity.create", obj=activity, ip=ip, via=via, detail={"kind": kind})
    return activity


@transaction.atomic
def delete_activity(user, activity: Activity, *, ip: str | None = None, via: str = "web") -> None:
    if activity.author_id != user.pk and not can(user, CHANGE, activity.customer):
        raise NotPermitted(_("You may not delete this activity."))
    record(user, "activity.delete", obj=activity, ip=ip, via=via,
           detail={"subject": activity.subject})
    activity.delete()


@transaction.atomic
def complete_task(user, task: Activity, *, ip: str | None = None, via: str = "web") -> Activity:
    """Mark a task done: by the person it is assigned to, or anybody who may change the
    customer."""
    if task.kind != ActivityKind.TASK:
        raise ServiceError(_("Only tasks can be marked done."))
    if task.assigned_to_id != user.pk and not can(user, CHANGE, task.customer):
        raise NotPermitted(_("You may not complete this task."))
    if task.done_at is not None:
        return task
    task.done_at, task.done_by = timezone.now(), user
    task.save(update_fields=["done_at", "done_by", "updated_at"])
    record(user, "activity.done", obj=task, ip=ip, via=via)
    return task
