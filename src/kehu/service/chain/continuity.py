"""Owner periods read for the chain's figures and its flag. Callers scope the customers
(`customer_q`, a condition on OwnerAssignment); this module reads what they pass."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q

from kehu.customers.models import OwnerAssignment
from kehu.service.chain import figures

FLAG_WINDOW_DAYS = 365  # the flag: the owner changed twice within a year
FLAG_CHANGES = 2


def periods(customer_q: Q, since: dt.datetime) -> dict[int, list[tuple]]:
    """Each customer's owner periods that reach into the window (a period that starts in
    it has its predecessor end in it too), as (started_at, owner id)."""
    out: dict[int, list[tuple]] = defaultdict(list)
    rows = (OwnerAssignment.objects.filter(customer_q)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
            .values_list("customer_id", "started_at", "owner_id"))
    for customer_id, started_at, owner_id in rows:
        out[customer_id].append((started_at, owner_id))
    return out


def changes_in_year(customer_q: Q, now: dt.datetime) -> dict[int, int]:
    """Customers whose owner changed at least FLAG_CHANGES times in the twelve months up to
    `now`, with how many times."""
    since = now - dt.timedelta(days=FLAG_WINDOW_DAYS)
    changed = (OwnerAssignment.objects.filter(customer_q, started_at__gt=since)
               .values("customer_id"))
    found = periods(Q(customer_id__in=changed) & customer_q, since)
    return {pk: n for pk, own in found.items()
            if (n := figures.owner_changes(own, since)) >= FLAG_CHANGES}
