"""Writing to the audit log. Every service that reads or changes a customer file calls
`record`; nothing else writes audit events."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
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


# A list read or an export names its customers by id up to this many; beyond, the set is
# named by its size, its id range and a digest (see customer_set).
LISTED_IDS = 2000


def customer_set(customer_ids: Iterable[int]) -> dict[str, Any]:
    """Which customers a list or an export showed, for the audit row's detail.

    Up to LISTED_IDS customers, their ids (sorted, each once). A larger set — an export of
    a whole base — is named by its count, its first and last id and the SHA-256 of its ids
    (sorted, decimal, joined by commas): a million ids would make every such audit row
    megabytes long, while count, range and digest stay a few bytes and still identify the
    set exactly — anyone holding a candidate list (the same filter run against a backup of
    that day, say) can compute its digest and compare.
    """
    ids = sorted({int(i) for i in customer_ids})
    if len(ids) <= LISTED_IDS:
        return {"customers": ids}
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    return {"count": len(ids), "first": ids[0], "last": ids[-1], "sha256": digest}


def used_filters(filters: Any) -> dict[str, Any]:
    """The filters a user set (a mapping or a dataclass), as JSON-safe values; those left
    empty are left out."""
    if dataclasses.is_dataclass(filters):
        filters = dataclasses.asdict(filters)
    out: dict[str, Any] = {}
    for name, value in (filters or {}).items():
        if value is None or value is False or value == "" or value == {} or value == []:
            continue
        out[name] = value if isinstance(value, bool | int | float) else str(value)
    return out


def record_list(user, what: str, customer_ids: Iterable[int], *,
                filters: Mapping[str, Any] | Any = None, about: int | None = None,
                ip: str | None = None, via: str = "",
                detail: dict[str, Any] | None = None) -> AuditEvent:
    """A read of many customers' data (a list page, a search, an API list): ONE row per
    request, naming what was listed (`what`), the filter used and the customers shown —
    never a row per customer, so that a list stays one INSERT however long it is. The
    row's customer id is `about` (the card a search was made from), or the one customer a
    list showed, so that the log filtered by that customer shows it."""
    shown = customer_set(customer_ids)
    only = shown.get("customers", [])
    if about is None and len(only) == 1:
        about = only[0]
    return record(user, "customer.list", ip=ip, via=via, customer_id=about, detail={
                      "list": what, "filter": used_filters(filters), **shown,
                      **(detail or {})})
