"""Writing to the audit log. Every service that reads or changes a customer file calls
`record`; nothing else writes audit events."""

from __future__ import annotations

from typing import Any

from django.db import models

from kehu.audit.models import AuditEvent


def record(
    user,
    action: str,
    *,
    obj: models.Model | None = None,
    customer_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    via: str = "",
) -> AuditEvent:
    if obj is not None and customer_id is None:
        customer_id = _customer_id_of(obj)
    return AuditEvent.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=getattr(user, "username", "") or "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        customer_id=customer_id,
        detail=detail or {},
        ip=ip,
        via=via,
    )


def _customer_id_of(obj: models.Model) -> int | None:
    if obj._meta.label_lower == "customers.customer":
        return obj.pk
    return getattr(obj, "customer_id", None)
