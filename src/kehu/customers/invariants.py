"""The bookkeeping every write of a customer record must do, in one place.

Whoever writes a customer — the card and the API (through customers.services), an import and
its undo, a merge, an erasure, the demo loader, the value refresh, a user's move to another
team — writes through this module, so that these hold for every customer at all times:

- the search key (`search_text`) is made from the current name, phones, e-mail, external id;
  the sort key (`name_sort`, pinyin order) from the name;
- the team is the owner's team, and the owner history has exactly one open period: the
  current owner's (专人负责); a change of owner sends customers.signals.owners_changed;
- every change of lifecycle state has a transition saying from what, to what, when, by whom,
  why and how it was decided (by hand, derived from behaviour, imported);
- every change raises the version (so that a form opened before it is refused as stale) and
  sets who changed the card and when;
- every change, creation and deletion leaves a row in the field history
  (django-simple-history) with who did it and why.

Validation (the card's rules, permissions) is the caller's: this module keeps the books.

Two paths, with the same results. `insert`, `apply` and `remove` take model instances — one
or thousands, written with simple_history's bulk helpers. `set_states` and `follow_owner_team`
work in SQL, for the value refresh and team moves, where a million customers may change and
loading each as an instance would take most of the time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kehu.core.bulk import write_rows
from kehu.customers.models import (
    Customer,
    CustomerKind,
    LifecycleState,
    LifecycleTransition,
    OwnerAssignment,
    StateLock,
    TransitionSource,
)
from kehu.customers.search import search_text, sort_key
from kehu.customers.signals import owners_changed

# The facts the search key is made of.
SEARCH_FIELDS = frozenset({"name", "kind", "phone", "mobile", "email", "external_id"})
# Written by this module, never taken from callers' values.
BOOKKEEPING_FIELDS = frozenset({"id", "team", "version", "search_text", "name_sort",
                                "created_at",
                                "updated_at", "created_by", "updated_by"})
CHUNK = 5000


def refresh_search_key(customer: Customer) -> None:
    customer.search_text = search_text(
        name=customer.name, phones=(customer.phone, customer.mobile), email=customer.email,
        external_id=customer.external_id)
    customer.name_sort = sort_key(customer.name, person=customer.kind == CustomerKind.PERSON)


def _user_id(user) -> int | None:
    return getattr(user, "pk", None)


# Instances ----------------------------------------------------------------------------------

def insert(customers: Sequence[Customer], *, by, reason: str,
           source: str = TransitionSource.MANUAL, at: dt.datetime | None = None,
           state_reasons: Sequence[str] | None = None,
           batch_size: int = 1000) -> list[Customer]:
    """Save new customers (owner and lifecycle state set on each) with their search key,
    team, first owner period, first lifecycle transition and history row. Returns them with
    their ids. `state_reasons`, one per customer, say why each starts in its state (by
    default `reason`)."""
    at = at or timezone.now()
    for c in customers:
        c.team_id = c.owner.team_id
        if not c.external_id:
            c.external_id = None
        c.version = 1
        c.created_by_id = c.created_by_id or _user_id(by)
        c.updated_by_id = c.updated_by_id or _user_id(by)
        refresh_search_key(c)
    saved = bulk_create_with_history(list(customers), Customer, batch_size=batch_size,
                                     default_user=by if _user_id(by) else None,
                                     default_change_reason=reason, default_date=at)
    OwnerAssignment.objects.bulk_create(
        [OwnerAssignment(customer_id=c.pk, owner_id=c.owner_id, started_at=at,
                         assigned_by_id=_user_id(by), reason=reason[:300]) for c in saved],
        batch_size=batch_size)
    why = state_reasons if state_reasons is not None else [reason] * len(saved)
    LifecycleTransition.objects.bulk_create(
        [LifecycleTransition(customer_id=c.pk, from_state="", to_state=c.lifecycle_state,
                             at=at, by_id=_user_id(by), reason=r[:300], source=source)
         for c, r in zip(saved, why, strict=True)], batch_size=batch_size)
    return saved


def apply(edits: Iterable[tuple[Customer, Mapping[str, Any]]], *, by, reason: str,
          source: str = TransitionSource.MANUAL, at: dt.datetime | None = None,
          even_if_unchanged: bool = False,
          batch_size: int = 1000) -> list[dict[str, tuple[Any, Any]]]:
    """Give each customer (a current row, locked by the caller) the values in its mapping
    (field name → value; `owner` as a User) and keep the books for what really changed.
    Returns, per edit, {field: (old, new)}. A customer whose values are all unchanged is not
    written, unless `even_if_unchanged` (something else about it changed, e.g. records were
    merged into it): then it gets a new version and a history row with the reason."""
    at = at or timezone.now()
    changed: list[Customer] = []
    fields: set[str] = set()
    diffs: list[dict[str, tuple[Any, Any]]] = []
    ended_owner: list[int] = []
    assignments, transitions = [], []
    for customer, values in edits:
        diff: dict[str, tuple[Any, Any]] = {}
        for name, value in values.items():
            if name in BOOKKEEPING_FIELDS:
                raise ValueError(f"{name} is kept by kehu.customers.invariants")
            if name == "external_id" and value == "":
                value = None
            if name == "owner":
                if value.pk != customer.owner_id:
                    diff["owner"] = (customer.owner, value)
                    customer.owner = value
                continue
            old = getattr(customer, name)
            if old != value:
                diff[name] = (old, value)
                setattr(customer, name, value)
        diffs.append(diff)
        if not diff and not even_if_unchanged:
            continue
        fields.update(diff)
        if "owner" in diff:
            customer.team_id = customer.owner.team_id
            fields.add("team")
            ended_owner.append(customer.pk)
            assignments.append(OwnerAssignment(customer_id=customer.pk,
                                               owner_id=customer.owner_id, started_at=at,
                                               assigned_by_id=_user_id(by),
                                               reason=reason[:300]))
        if "lifecycle_state" in diff:
            transitions.append(LifecycleTransition(
                customer_id=customer.pk, from_state=diff["lifecycle_state"][0],
                to_state=customer.lifecycle_state, at=at, by_id=_user_id(by),
                reason=reason[:300], source=source))
        if SEARCH_FIELDS & diff.keys():
            refresh_search_key(customer)
            fields |= {"search_text", "name_sort"}
        customer.version += 1
        customer.updated_by_id = _user_id(by)
        customer.updated_at = at
        changed.append(customer)
    if changed:
        fields |= {"version", "updated_by", "updated_at"}
        for start in range(0, len(ended_owner), CHUNK):
            OwnerAssignment.objects.filter(customer_id__in=ended_owner[start:start + CHUNK],
                                           ended_at__isnull=True).update(ended_at=at)
        bulk_update_with_history(changed, Customer, sorted(fields), batch_size=batch_size,
                                 default_user=by if _user_id(by) else None,
                                 default_change_reason=reason, default_date=at)
        OwnerAssignment.objects.bulk_create(assignments, batch_size=batch_size)
        LifecycleTransition.objects.bulk_create(transitions, batch_size=batch_size)
        if ended_owner:
            owners_changed.send(Customer, customer_ids=ended_owner, user=by, at=at)
    return diffs


def touch(customer: Customer, *, by, reason: str, fields: Sequence[str],
          at: dt.datetime | None = None) -> None:
    """Save bookkeeping-free facts about a card that are not edits of it (when its data was
    last confirmed): a history row, but no new version, so that nobody's open form of the
    card becomes stale because of it."""
    customer._history_user = by if _user_id(by) else None
    customer._change_reason = reason
    customer._history_date = at or timezone.now()
    customer.save(update_fields=list(fields))


def remove(customers: Iterable[Customer], *, by, reason: str) -> int:
    """Delete customers, each with a last history row saying who removed it and why."""
    removed = 0
    for customer in customers:
        customer._history_user = by if _user_id(by) else None
        customer._change_reason = reason
        customer.delete()
        removed += 1
    return removed


# SQL, for a whole customer base -------------------------------------------------------------

def _history_columns() -> list[str]:
    history = Customer.history.model
    return [f.column for f in history._meta.concrete_fields
            if not f.name.startswith("history_")]


def _snapshot(ids: Sequence[int], *, by_id: int | None, reason: str, at: dt.datetime) -> None:
    """A history row for each customer in `ids`, as it is now."""
    if not ids:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in _history_columns())
    history = Customer.history.model._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(history)} ({names}, history_date, history_change_reason, "  # noqa: S608
            f"history_type, history_user_id) SELECT {names}, %s, %s, '~', %s "
            f"FROM {qn(Customer._meta.db_table)} WHERE id IN ({marks})",
            [connection.ops.adapt_datetimefield_value(at), reason, by_id, *ids])


def _active_locks_sql(table: str, day: dt.date) -> tuple[str, list]:
    """A condition true for the rows of `table` (the customers) without an active lock."""
    qn = connection.ops.quote_name
    locks = qn(StateLock._meta.db_table)
    return (f"NOT EXISTS (SELECT 1 FROM {locks} l WHERE l.customer_id = {table}.id "  # noqa: S608
            f"AND l.unlocked_at IS NULL AND (l.until IS NULL OR l.until >= %s))",
            [connection.ops.adapt_datefield_value(day)])


def active_locks(ids: Iterable[int] | None = None, *, day: dt.date | None = None
                 ) -> dict[int, StateLock]:
    """The customers (of `ids`, or all) whose lifecycle state is locked on `day` (default
    today), with their lock."""
    day = day or timezone.localdate()
    qs = StateLock.objects.filter(unlocked_at__isnull=True).exclude(until__lt=day)
    if ids is None:
        return {lock.customer_id: lock for lock in qs}
    ids = list(ids)
    out: dict[int, StateLock] = {}
    for start in range(0, len(ids), CHUNK):
        out.update((lock.customer_id, lock)
                   for lock in qs.filter(customer_id__in=ids[start:start + CHUNK]))
    return out


def set_states(changes: Iterable[tuple[int, str, str, str]], *, source: str, by=None,
               history_reason: str, at: dt.datetime | None = None) -> list[int]:
    """Move customers between lifecycle states in bulk. Each change is (customer id, the
    state it is expected to be in, the new state, the reason for its transition); a customer
    whose state changed meanwhile (somebody set it by hand), whose state is locked
    (StateLock) or that is gone is left alone. Returns the ids that moved."""
    at = at or timezone.now()
    table = connection.ops.quote_name(Customer._meta.db_table)
    unlocked, unlocked_params = _active_locks_sql(table, timezone.localtime(at).date())
    by_id = _user_id(by)
    groups: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    states = set(LifecycleState.values)  # computed afresh at every access
    for pk, old, new, why in changes:
        if new not in states:
            raise ValueError(f"unknown lifecycle state {new!r}")
        if old != new:
            groups[(old, new)].append((int(pk), why))
    stamp = connection.ops.adapt_datetimefield_value(at)
    moved: list[int] = []
    for (old, new), rows in groups.items():
        for start in range(0, len(rows), CHUNK):
            chunk = dict(rows[start:start + CHUNK])
            marks = ", ".join(["%s"] * len(chunk))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET lifecycle_state = %s, version = version + 1, "  # noqa: S608
                    f"updated_at = %s, updated_by_id = %s "
                    f"WHERE lifecycle_state = %s AND id IN ({marks}) AND {unlocked} "
                    f"RETURNING id",
                    [new, stamp, by_id, old, *chunk, *unlocked_params])
                ids = sorted(row[0] for row in cursor.fetchall())
            write_rows(LifecycleTransition._meta.db_table,
                       ["customer_id", "from_state", "to_state", "at", "by_id", "reason",
                        "source"],
                       [(pk, old, new, stamp, by_id, chunk[pk][:300], str(source))
                        for pk in ids], plain=True)
            _snapshot(ids, by_id=by_id, reason=history_reason, at=at)
            moved.extend(ids)
    return moved


def note_kept_states(notes: Iterable[tuple[int, str, str]], *, source: str,
                     at: dt.datetime | None = None) -> list[int]:
    """Say in the lifecycle history why a customer kept its state: each note is (customer
    id, its state, the reason), written as a transition from the state to itself. A note
    equal to the customer's latest transition is not written again, so that a daily
    refresh does not repeat the same words every day. Returns the ids noted."""
    at = at or timezone.now()
    notes = [(int(pk), state, why[:300]) for pk, state, why in notes]
    if not notes:
        return []
    latest: dict[int, tuple[str, str]] = {}
    ids = [pk for pk, _state, _why in notes]
    for start in range(0, len(ids), CHUNK):
        for pk, to_state, why in (LifecycleTransition.objects
                                  .filter(customer_id__in=ids[start:start + CHUNK])
                                  .order_by("customer_id", "-at", "-id")
                                  .values_list("customer_id", "to_state", "reason")):
            latest.setdefault(pk, (to_state, why))
    rows = [LifecycleTransition(customer_id=pk, from_state=state, to_state=state, at=at,
                                reason=why, source=source)
            for pk, state, why in notes if latest.get(pk) != (state, why)]
    LifecycleTransition.objects.bulk_create(rows, batch_size=1000)
    return [row.customer_id for row in rows]


def follow_owner_team(owner_id: int, *, by, reason: str,
                      at: dt.datetime | None = None) -> int:
    """After a user moved to another team, their customers' team follows (a customer's team
    is its owner's). Returns how many customers moved."""
    at = at or timezone.now()
    qn = connection.ops.quote_name
    table = qn(Customer._meta.db_table)
    users = qn(Customer._meta.get_field("owner").related_model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT team_id FROM {users} WHERE id = %s", [owner_id])  # noqa: S608
        row = cursor.fetchone()
        team_id = row[0] if row else None
        differs = ("team_id IS NOT NULL" if team_id is None else
                   "(team_id IS NULL OR team_id <> %s)")
        cursor.execute(
            f"UPDATE {table} SET team_id = %s, version = version + 1, updated_at = %s, "  # noqa: S608
            f"updated_by_id = %s WHERE owner_id = %s AND {differs} RETURNING id",
            [team_id, connection.ops.adapt_datetimefield_value(at), _user_id(by), owner_id,
             *([] if team_id is None else [team_id])])
        ids = [r[0] for r in cursor.fetchall()]
    for start in range(0, len(ids), CHUNK):
        _snapshot(ids[start:start + CHUNK], by_id=_user_id(by), reason=reason, at=at)
    return len(ids)
