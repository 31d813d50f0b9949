"""Keyset pagination: pages stay fast at a million rows because no page ever skips over the
rows before it. The total is counted exactly: one COUNT over the list's filter, which the
indexes that serve the list (owner, team, state, the sort key) also serve."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import DateTimeField, Q, QuerySet
from django.utils import timezone


@dataclass
class Page:
    items: list
    next_cursor: str | None
    count: int  # every matching row
    count_is_exact: bool  # always true; kept for the API's clients
    has_previous: bool
    # A cursor was given but could not be a position in this list (mangled, doctored, or
    # from another sort order): the page is the first one, and a page may say so.
    cursor_refused: bool = False


def _encode(value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    elif isinstance(value, date):
        value = {"d": value.isoformat()}
    raw = json.dumps([value, pk], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if isinstance(value, dict) and "dt" in value:
            value = datetime.fromisoformat(value["dt"])
        elif isinstance(value, dict) and "d" in value:
            value = date.fromisoformat(value["d"])
        if not isinstance(pk, int) or isinstance(value, dict | list):
            return None
        return value, pk
    except (ValueError, TypeError, json.JSONDecodeError):
        # A cursor is opaque to users; a mangled one starts from the first page.
        return None


_MAX_PK = 2**63 - 1


def _typed(queryset: QuerySet, sort: str, position: tuple[Any, int]) -> tuple[Any, int] | None:
    """The cursor's position with its value converted for the sort field, or None when the
    cursor cannot belong to this sort (a doctored cursor, or one from another sort order):
    comparing with such a value would fail in the database instead of starting over."""
    value, pk = position
    if value is None or isinstance(value, bool) or not 0 <= pk <= _MAX_PK:
        return None
    try:
        # A sort by an annotation (a figure of a related row, its nulls coalesced) types
        # the cursor by the annotation's output field.
        annotation = queryset.query.annotations.get(sort)
        field = (annotation.output_field if annotation is not None
                 else queryset.model._meta.get_field(sort))
        if isinstance(field, DateTimeField) and not isinstance(value, datetime):
            return None  # kehu writes a time as {"dt": ...}; a bare date or string is forged
        value = field.to_python(value)
        if value is None:
            return None
        if isinstance(value, str):
            # Neither database stores NUL in text, and a lone surrogate (valid JSON) is
            # no UTF-8 at all: no row can sort at such a value.
            if "\x00" in value:
                return None
            value.encode("utf-8")
        if isinstance(value, datetime):
            # Times are compared in UTC; one that falls outside the years 1-9999 once
            # converted (0001-01-01T00:00+05:00) is no time a row can have.
            # PostgreSQL refuses offsets beyond ±15:59 that Python accepts (+23:59),
            # so the database is handed the time in UTC.
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            value = value.astimezone(UTC)
        # What the database driver would be handed, so that any refusal happens here.
        field.get_db_prep_value(value, connections[queryset.db], prepared=False)
    except (FieldDoesNotExist, ValidationError, TypeError, ValueError, OverflowError):
        return None
    return value, pk


def keyset_page(queryset: QuerySet, *, sort: str, descending: bool = False,
                cursor: str | None = None, limit: int = 50,
                with_count: bool = True,
                counter: Callable[[QuerySet], int] | None = None,
                keys_within: Callable[[], AbstractContextManager] | None = None) -> Page:
    """One page of `queryset` ordered by (`sort`, pk). `sort` is a field or an annotation
    of the queryset, and must not be nullable: coalesce a nullable figure to a value below
    any real one in an annotation (kehu.customers.selectors.VALUE_SORTS). `counter`, when
    given, counts the rows instead of a COUNT of `queryset` (e.g. from a cache).

    `keys_within`: find the page by its sort keys alone, inside the context this gives
    (e.g. planner settings for the search), then read its rows by primary key after it.
    For a page the database picks out of many rows it reads and sorts (a search), the sort
    then carries two columns instead of whole rows with their annotations; a row gone in
    between is left out."""
    order = (f"-{sort}", "-pk") if descending else (sort, "pk")
    qs = queryset.order_by(*order)
    position = _decode(cursor) if cursor else None
    if position is not None:
        position = _typed(queryset, sort, position)
    refused = bool(cursor) and position is None
    if position is not None:
        value, pk = position
        op = "lt" if descending else "gt"
        # The leading range condition lets the database start in the (sort, pk) index at
        # the cursor; the OR alone would make it scan from the beginning on every page.
        qs = qs.filter(Q(**{f"{sort}__{op}e": value}),
                       Q(**{f"{sort}__{op}": value}) | Q(**{sort: value, f"pk__{op}": pk}))
    if keys_within is not None:
        with keys_within():
            keys = list(qs.values_list(sort, "pk")[: limit + 1])
        found = queryset.filter(pk__in=[pk for _value, pk in keys[:limit]]).in_bulk()
        rows = [found[pk] for _value, pk in keys[:limit] if pk in found]
    else:
        rows = list(qs[: limit + 1])
        keys = [(getattr(row, sort), row.pk) for row in rows]
    more = len(keys) > limit
    rows = rows[:limit]
    next_cursor = _encode(*keys[limit - 1]) if more and limit > 0 else None
    count, exact = 0, True
    if with_count:
        count = counter(queryset) if counter else queryset.order_by().count()
    return Page(items=rows, next_cursor=next_cursor, count=count, count_is_exact=exact,
                has_previous=position is not None, cursor_refused=refused)
