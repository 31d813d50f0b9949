"""The demo firm's owner history (专人负责 over time), so that the service–profit chain has
something to read: when each customer got their current owner, and for some, the owners
they had before.

The loader creates every customer today with one open owner period; this module dates that
period back to when the customer came to the firm and, for some customers, writes the
earlier periods of the team's other salesperson or manager. Customers who stopped buying
had their owner changed more often (the pattern seed 002 reports: satisfaction with
frequently changing staff 30.8%, with stable staff 44.5%), and a few valuable customers saw
two changes in the last twelve months, so that their flag shows. Customers are not written:
only their owner periods, whose open period stays the current owner's."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.utils import timezone

from kehu.accounts.models import User
from kehu.customers.models import Customer, LifecycleState, OwnerAssignment

SEED = 20261206
# Chance of (one change, two changes) in the last two years, by whether they still buy.
CHANGES = {"churned": (0.22, 0.14), "buying": (0.12, 0.04), "prospect": (0.05, 0.0)}
RECENT_TWICE = 0.02  # of the customers still buying: two changes in the last year
HANDOVER = {"zh-hans": "人员调整，客户交接", "en": "Staff change: customer handed over"}


def _peer(owner_id: int, users: dict[str, User]) -> int:
    pairs = {users["sales1"].pk: users["manager1"].pk, users["manager1"].pk: users["sales1"].pk,
             users["sales2"].pk: users["manager2"].pk, users["manager2"].pk: users["sales2"].pk}
    return pairs.get(owner_id, users["admin"].pk)


def _kind(state: str) -> str:
    if state == LifecycleState.CHURNED:
        return "churned"
    if state in (LifecycleState.FIRST_PURCHASE, LifecycleState.REPEAT_PURCHASE,
                 LifecycleState.LOYAL):
        return "buying"
    return "prospect"


def load(customers: list[Customer], users: dict[str, User], language: str,
         admin: User) -> Counter:
    """Write the owner history of the demo's customers; returns how many customers got
    no change, one change and two changes."""
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate()
    ids = [c.pk for c in customers]
    single = {pk: period for pk, period in (
        (p.customer_id, p) for p in OwnerAssignment.objects.filter(customer_id__in=ids))}
    counts = Counter(OwnerAssignment.objects.filter(customer_id__in=ids)
                     .values_list("customer_id", flat=True))
    reason = HANDOVER[language]
    backdated, earlier, told = [], [], Counter()
    for customer in customers:
        if counts[customer.pk] != 1:
            continue  # a demo part already changed this customer's owner
        period = single[customer.pk]
        # An owner looked after the customer for a while before the first order.
        since = (customer.trading_since - dt.timedelta(days=rng.randrange(0, 300))
                 if customer.trading_since else
                 today - dt.timedelta(days=rng.randrange(30, 500)))
        start = timezone.make_aware(dt.datetime.combine(since, dt.time(9)))
        kind = _kind(customer.lifecycle_state)
        once, twice = CHANGES[kind]
        draw = rng.random()
        if kind == "buying" and rng.random() < RECENT_TWICE:
            window = 330
            changes = 2
        else:
            window = 700
            changes = 2 if draw < twice else 1 if draw < twice + once else 0
        earliest = max(start + dt.timedelta(days=20), now - dt.timedelta(days=window))
        latest = now - dt.timedelta(days=10)
        if changes and earliest < latest:
            span = (latest - earliest).total_seconds()
            days = sorted(earliest + dt.timedelta(seconds=rng.random() * span)
                          for _ in range(changes))
            owner, peer = customer.owner_id, _peer(customer.owner_id, users)
            owners = [owner, peer] if changes == 2 else [peer]
            begin = start
            for at, who in zip(days, owners, strict=True):
                earlier.append(OwnerAssignment(customer_id=customer.pk, owner_id=who,
                                               started_at=begin, ended_at=at,
                                               assigned_by=admin, reason=reason))
                begin = at
            period.started_at = begin
            period.reason = reason
            told[changes] += 1
        else:
            period.started_at = min(start, now)
            told[0] += 1
        backdated.append(period)
    # Written again rather than updated: an update of 24,000 rows with a date each takes
    # the ORM many times longer than deleting them and inserting them back.
    keys = [period.pk for period in backdated]
    for start in range(0, len(keys), 2000):
        OwnerAssignment.objects.filter(pk__in=keys[start:start + 2000]).delete()
    for period in backdated:
        period.pk = None
    OwnerAssignment.objects.bulk_create(earlier + backdated, batch_size=2000)
    return told
