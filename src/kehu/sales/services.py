"""Writes to the activity timeline."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import record
from kehu.core.errors import NotPermitted
from kehu.core.permissions import CHANGE, CONTRIBUTE, can
from kehu.sales.models import Activity, ActivityKind
from kehu.sales.pipeline import stale


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
    stale.activity_logged(customer.pk, activity.occurred_at, by=user)
    record(user, "activity.create", obj=activity, ip=ip, via=via, detail={"kind": kind})
    return activity


@transaction.atomic
def delete_activity(user, activity: Activity, *, ip: str | None = None, via: str = "web") -> None:
    if activity.author_id != user.pk and not can(user, CHANGE, activity.customer):
        raise NotPermitted(_("You may not delete this activity."))
    record(user, "activity.delete", obj=activity, ip=ip, via=via,
           detail={"subject": activity.subject})
    activity.delete()
