"""The customers an audit page names, by name where the reader may see them.

The audit log keeps customer ids; a page shows names. The customers app (a higher layer)
registers how to look names up for a reader (`register_customer_namer`), scoped like every
read: a customer the reader may not see is named by a neutral label, never by its name, and
an erased customer is "erased customer N" whoever reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kehu.audit.models import AuditEvent

# (reader, ids) -> ({id: name} of those the reader may see, ids that exist at all)
Namer = Callable[[object, list[int]], tuple[Mapping[int, str], set[int]]]
_namers: list[Namer] = []

# A list read names this many of its customers, then "and N more".
LISTED_NAMES = 5


def register_customer_namer(namer: Namer) -> None:
    if namer not in _namers:
        _namers.append(namer)


@dataclass(frozen=True)
class CustomerRef:
    id: int
    label: str
    linked: bool  # the reader may open the card


@dataclass(frozen=True)
class Listed:
    refs: list[CustomerRef]
    more: int


def name_customers(user, events: Iterable[AuditEvent]) -> None:
    """Give each event `customer_ref` (its customer, or None) and `listed` (the customers a
    list read showed: the first LISTED_NAMES and how many more, or None). One look-up of
    names and one of erasures for the whole page."""
    events = list(events)
    wanted: set[int] = set()
    for e in events:
        if e.customer_id:
            wanted.add(e.customer_id)
        wanted.update(_listed_ids(e)[:LISTED_NAMES])
    ids = sorted(wanted)
    visible: Mapping[int, str] = {}
    existing: set[int] = set(ids)
    if ids and _namers:
        visible, existing = _namers[0](user, ids)
    erased = set(AuditEvent.objects.filter(action="privacy.erase", customer_id__in=ids)
                 .values_list("customer_id", flat=True)) if ids else set()
    refs = {i: _ref(i, visible, existing, erased) for i in ids}
    for e in events:
        e.customer_ref = refs.get(e.customer_id) if e.customer_id else None
        listed = _listed_ids(e)
        e.listed = (Listed([refs[i] for i in listed[:LISTED_NAMES]],
                           max(0, len(listed) - LISTED_NAMES)) if listed else None)


def _listed_ids(event: AuditEvent) -> list[int]:
    ids = (event.detail or {}).get("customers") if isinstance(event.detail, dict) else None
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]


def _ref(pk: int, visible: Mapping[int, str], existing: set[int], erased: set[int]
         ) -> CustomerRef:
    if pk in erased:
        return CustomerRef(pk, _("erased customer %(id)d") % {"id": pk}, pk in visible)
    if pk in visible:
        return CustomerRef(pk, visible[pk], True)
    if pk in existing:
        return CustomerRef(pk, _("customer %(id)d (not visible to you)") % {"id": pk}, False)
    return CustomerRef(pk, _("customer %(id)d (deleted)") % {"id": pk}, False)
