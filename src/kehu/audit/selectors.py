"""Reading the audit log: admins only."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.audit.models import AuditEvent
from kehu.core import policy


def audit_events(user, *, username: str = "", action: str = "", customer_id: int | None = None,
                 date_from=None, date_to=None) -> QuerySet[AuditEvent]:
    if not policy.may_read_audit_log(user):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.all()
    if username:
        qs = qs.filter(username=username)
    if action:
        qs = qs.filter(action__startswith=action)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs.order_by("-at", "-id")
