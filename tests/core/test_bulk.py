"""Writing plain rows in bulk (kehu.core.bulk.write_rows) gives what the ORM would have
written, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core.bulk import write_rows
from kehu.customers.models import Transaction

pytestmark = pytest.mark.django_db

TABLE = Transaction._meta.db_table
COLUMNS = ("customer_id", "number", "kind", "date", "amount", "cost", "notes")


def _rows(customer_id: int, n: int, notes: str = "") -> list[tuple]:
    return [(customer_id, f"N{i}", "order", dt.date(2024, 1, 1) + dt.timedelta(days=i),
             Decimal(f"{i}.05"), Decimal("-1.50"), notes) for i in range(n)]


@pytest.mark.parametrize("binary", [False, True])
def test_new_rows_get_new_ids_in_their_order_and_the_constants(customers, users, binary):
    east = customers["east"]
    now = timezone.now()
    with transaction.atomic():
        Transaction.objects.create(customer=east, date=dt.date(2023, 1, 1), amount=1)
        ids = write_rows(TABLE, COLUMNS, _rows(east.pk, 3), new_ids=True, binary=binary,
                         constants={"created_by_id": users["sales1"].pk, "created_at": now,
                                    "updated_at": now})
    written = Transaction.objects.in_bulk(list(ids))
    assert [written[pk].number for pk in ids] == ["N0", "N1", "N2"]
    first = written[ids[0]]
    assert (first.date, first.amount, first.cost, first.kind) == (
        dt.date(2024, 1, 1), Decimal("0.05"), Decimal("-1.50"), "order")
    assert first.created_by == users["sales1"]
    assert first.created_at == now
    # Times are stored as the ORM stores them: a range query finds the rows.
    assert Transaction.objects.filter(created_at__gte=now - dt.timedelta(seconds=1),
                                      created_at__lte=now).count() == 3


def test_ids_are_never_those_of_removed_rows(customers):
    east = customers["east"]
    with transaction.atomic():
        gone = Transaction.objects.create(customer=east, date=dt.date(2023, 1, 1), amount=1).pk
        Transaction.objects.filter(pk=gone).delete()
        ids = write_rows(TABLE, (*COLUMNS, "created_at", "updated_at"),
                         [(*row, timezone.now(), timezone.now()) for row in _rows(east.pk, 2)],
                         new_ids=True)
    assert min(ids) > gone
    assert Transaction.objects.filter(pk__in=list(ids)).count() == 2


@pytest.mark.parametrize("binary", [False, True])
def test_text_with_tabs_backslashes_and_line_breaks_arrives_intact(customers, binary):
    east = customers["east"]
    texts = ["tab\there", "back\\slash \\N", "two\nlines", "\\", "送货\r\n上门", ""]
    now = timezone.now()
    with transaction.atomic():
        ids = write_rows(TABLE, COLUMNS, [(*row[:-1], text) for row, text in
                                          zip(_rows(east.pk, len(texts)), texts, strict=True)],
                         constants={"created_at": now, "updated_at": now}, new_ids=True,
                         binary=binary)
    written = Transaction.objects.in_bulk(list(ids))
    assert [written[pk].notes for pk in ids] == texts


def test_a_row_matching_on_the_conflict_column_is_replaced(customers):
    east = customers["east"]
    now = timezone.now()
    existing = Transaction.objects.create(customer=east, date=dt.date(2023, 1, 1), amount=1,
                                          number="OLD")
    with transaction.atomic():
        write_rows(TABLE, ("id", *COLUMNS, "created_at", "updated_at"),
                   [(existing.pk, east.pk, "NEW", "order", dt.date(2024, 2, 2), Decimal("9.99"),
                     Decimal(0), "", now, now)], conflict="id")
    existing.refresh_from_db()
    assert (existing.number, existing.amount) == ("NEW", Decimal("9.99"))
