"""Writing plain rows in bulk (kehu.core.bulk.write_rows) gives what the ORM would have
written, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
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


def test_columns_copied_through_arrow_read_back_as_written(customers):
    """PostgreSQL's column-wise path (the value refresh's scores): money rounded to cents
    comes back to the cent, an empty string stays empty and None is NULL."""
    from django.db import connection

    from kehu.core.bulk import copy_columns

    if connection.vendor != "postgresql":
        pytest.skip("copy_columns is PostgreSQL's")
    east, west = customers["east"], customers["north"]
    now = timezone.now()
    with transaction.atomic():
        copy_columns(Transaction, {
            "customer_id": [east.pk, west.pk], "number": ["", "N,\"1\""],
            "kind": ["order", "return"], "date": [dt.date(2024, 2, 29), dt.date(2024, 3, 1)],
            "amount": [round(0.1 + 0.2, 2), 123456789012.35], "cost": [-0.0, 1e-2],
            "notes": ["上海", ""], "created_at": [now, now], "updated_at": [now, now]})
    rows = {t.customer_id: t for t in Transaction.objects.filter(number__in=["", "N,\"1\""])}
    assert (rows[east.pk].number, rows[east.pk].date, rows[east.pk].amount,
            rows[east.pk].cost, rows[east.pk].notes) == (
        "", dt.date(2024, 2, 29), Decimal("0.30"), Decimal("0.00"), "上海")
    assert (rows[west.pk].number, rows[west.pk].kind, rows[west.pk].amount,
            rows[west.pk].cost) == ("N,\"1\"", "return", Decimal("123456789012.35"),
                                    Decimal("0.01"))


def test_numpy_columns_copied_through_arrow_are_null_where_a_value_is_missing(customers):
    """copy_columns takes numpy arrays as they come out of the value refresh: a float that
    is not finite and a NaT date are NULL; the rest reads back as it was."""
    from django.db import connection

    from kehu.analytics.models import CustomerValueSnapshot, ValueRefresh
    from kehu.core.bulk import copy_columns

    if connection.vendor != "postgresql":
        pytest.skip("copy_columns is PostgreSQL's")
    east, other, north = (customers[k] for k in ("east", "east_b", "north"))
    run = ValueRefresh.objects.create(as_of=dt.date(2024, 3, 1))
    with transaction.atomic():
        copy_columns(CustomerValueSnapshot, {
            "customer_id": np.array([east.pk, other.pk, north.pk]),
            "refresh_id": np.full(3, run.pk),
            "as_of": np.array(["2024-02-29", "2024-03-01", "2023-01-01"],
                              dtype="datetime64[D]"),
            "net_contribution": np.round(np.array([0.1 + 0.2, 12.3, -7.0]), 2),
            "clv": np.array([1e6, np.nan, -np.inf]),
            "p_alive": np.array([0.25, np.inf, np.nan]),
            "segment": np.array(["invest", "", "maintain"], dtype=object),
            "quadrant": np.array(["", "", ""], dtype=object),
            "lifecycle_state": np.array(["loyal", "churned", "first"], dtype=object)})
    got = {v.customer_id: (v.as_of, v.net_contribution, v.clv, v.p_alive, v.segment,
                           v.lifecycle_state)
           for v in CustomerValueSnapshot.objects.filter(refresh=run)}
    assert got == {
        east.pk: (dt.date(2024, 2, 29), Decimal("0.30"), Decimal("1000000.00"), 0.25,
                  "invest", "loyal"),
        other.pk: (dt.date(2024, 3, 1), Decimal("12.30"), None, None, "", "churned"),
        north.pk: (dt.date(2023, 1, 1), Decimal("-7.00"), None, None, "maintain", "first")}


def test_a_masked_value_is_null_and_a_missing_date_too():
    """The Arrow columns copy_columns writes, without a database."""
    import pyarrow as pa

    from kehu.core.bulk import _arrow_column

    assert _arrow_column(np.ma.masked_equal(np.array([5, 0, 1]), 0), pa.int64()
                         ).to_pylist() == [5, None, 1]
    assert _arrow_column(np.ma.masked_equal(np.array([5, 2]), 0), pa.int64()
                         ).to_pylist() == [5, 2]
    assert _arrow_column(np.array(["2024-02-29", "NaT"], dtype="datetime64[D]"),
                         pa.date32()).to_pylist() == [dt.date(2024, 2, 29), None]
    assert _arrow_column(np.array([np.nan, -np.inf, 1.5]), pa.float64()
                         ).to_pylist() == [None, None, 1.5]
    assert _arrow_column([1.5, None], pa.float64()).to_pylist() == [1.5, None]


def test_sqlite_rows_take_the_same_nulls_as_python_values():
    """The same columns as SQLite's plain rows take them: None where copy_columns writes
    NULL, dates as ISO text, the rest as Python values."""
    from kehu.core.bulk import plain_values

    assert plain_values(np.ma.masked_equal(np.array([5, 0, 1]), 0)) == [5, None, 1]
    assert plain_values(np.array(["2024-02-29", "NaT"], dtype="datetime64[D]")) == [
        "2024-02-29", None]
    assert plain_values(np.array([np.nan, -np.inf, 1.5])) == [None, None, 1.5]
    assert plain_values(np.array([True, False])) == [True, False]
    assert plain_values(np.array(["invest", ""], dtype=object)) == ["invest", ""]
    assert all(type(v) is int for v in plain_values(np.array([3, 4])))
