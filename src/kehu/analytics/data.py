"""Reading the customer base into arrays for the value refresh.

Each reader runs one grouped query and hands back numpy arrays, so that a million customers
and ten million transactions cost seconds, not a Python object per row. Dates come back as
days since 1970-01-01 and money as float64; the refresh rounds to cents at the edge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import connection

from kehu.customers.models import TransactionKind

EPOCH = dt.date(1970, 1, 1)
CHUNK = 200_000


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _money_sql(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)" if connection.vendor == "postgresql" \
        else f"CAST({expression} AS REAL)"


def _fetch(sql: str, params: list, dtypes: list) -> list[np.ndarray]:
    """Run `sql` and return its columns as arrays of the given dtypes, chunk by chunk."""
    columns: list[list[np.ndarray]] = [[] for _ in dtypes]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            for i, values in enumerate(zip(*rows, strict=True)):
                columns[i].append(np.asarray(values, dtype=dtypes[i]))
    return [np.concatenate(parts) if parts else np.empty(0, dtype=dtypes[i])
            for i, parts in enumerate(columns)]


@dataclass
class PurchaseDays:
    """One row per customer and day with an order (returns are not purchases)."""

    customer: np.ndarray  # int64 customer id, sorted
    day: np.ndarray  # int64 days since 1970-01-01, sorted within a customer
    amount: np.ndarray  # float64, the day's orders
    profit: np.ndarray  # float64, their gross profit


def purchase_days(as_of: dt.date) -> PurchaseDays:
    customer, day, amount, profit = _fetch(
        f"SELECT customer_id, {_day_sql('date')}, {_money_sql('SUM(amount)')}, "
        f"{_money_sql('SUM(amount - cost)')} "
        "FROM customers_transaction WHERE date <= %s AND kind <> %s "
        "GROUP BY customer_id, date ORDER BY customer_id, date",
        [as_of, TransactionKind.RETURN], [np.int64, np.int64, np.float64, np.float64])
    return PurchaseDays(customer, day, amount, profit)


@dataclass
class Realised:
    """Per customer (sorted ids): lifetime and recent sales and gross profit, returns
    included."""

    customer: np.ndarray
    revenue: np.ndarray
    gross_profit: np.ndarray
    revenue_recent: np.ndarray
    gross_profit_recent: np.ndarray


def realised(as_of: dt.date, since: dt.date) -> Realised:
    recent = "CASE WHEN date > %s THEN {} ELSE 0 END"
    customer, revenue, profit, revenue_recent, profit_recent = _fetch(
        "SELECT customer_id, "
        f"{_money_sql('SUM(amount)')}, {_money_sql('SUM(amount - cost)')}, "
        f"{_money_sql('SUM(' + recent.format('amount') + ')')}, "
        f"{_money_sql('SUM(' + recent.format('amount - cost') + ')')} "
        "FROM customers_transaction WHERE date <= %s GROUP BY customer_id ORDER BY customer_id",
        [since, since, as_of], [np.int64] + [np.float64] * 4)
    return Realised(customer, revenue, profit, revenue_recent, profit_recent)


@dataclass
class ServiceCost:
    """Per customer (sorted ids): what its activities cost, by activity-based costing."""

    customer: np.ndarray
    cost: np.ndarray
    cost_recent: np.ndarray


def service_cost(unit_costs: dict[str, float], as_of: dt.datetime, since: dt.datetime
                 ) -> ServiceCost:
    """Activities consume resources at each kind's unit cost; a task costs once done."""
    kinds = [k for k, c in unit_costs.items() if c]
    if not kinds:
        empty = np.empty(0)
        return ServiceCost(np.empty(0, dtype=np.int64), empty, empty)
    marks = ", ".join(["%s"] * len(kinds))
    customer, kind_index, count, recent = _fetch(
        f"SELECT customer_id, kind, COUNT(*), SUM(CASE WHEN occurred_at > %s THEN 1 ELSE 0 END) "
        f"FROM sales_activity WHERE occurred_at <= %s AND kind IN ({marks}) "
        "AND NOT (kind = 'task' AND done_at IS NULL) "
        "GROUP BY customer_id, kind ORDER BY customer_id",
        [since, as_of, *kinds], [np.int64, object, np.int64, np.int64])
    rate = np.array([unit_costs[k] for k in kind_index], dtype=float) if kind_index.size \
        else np.empty(0)
    ids, start = np.unique(customer, return_index=True)
    if not ids.size:
        empty = np.empty(0)
        return ServiceCost(ids, empty, empty)
    return ServiceCost(ids, np.add.reduceat(rate * count, start),
                       np.add.reduceat(rate * recent, start))


def spread(ids: np.ndarray, values: np.ndarray, onto: np.ndarray) -> np.ndarray:
    """`values` keyed by sorted `ids`, placed on the sorted customer ids `onto` (0 where a
    customer has no row)."""
    out = np.zeros(onto.shape, dtype=float)
    if ids.size and onto.size:
        pos = np.minimum(np.searchsorted(onto, ids), onto.size - 1)
        found = onto[pos] == ids
        out[pos[found]] = np.asarray(values)[found]
    return out
