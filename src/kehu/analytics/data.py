"""Reading the customer base into arrays for the value refresh.

Each reader runs one grouped query and hands back numpy arrays, so that a million customers
and ten million transactions cost seconds, not a Python object per row. Dates come back as
days since 1970-01-01 and money as float64; the refresh rounds to cents at the edge.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from kehu.core import memory
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


@dataclass
class Realised:
    """Per customer (sorted ids): lifetime and recent sales and gross profit, returns
    included."""

    customer: np.ndarray
    revenue: np.ndarray
    gross_profit: np.ndarray
    revenue_recent: np.ndarray
    gross_profit_recent: np.ndarray


def _columns(rows: np.ndarray) -> list[np.ndarray]:
    return [rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2].copy(),
            rows[:, 3].copy(), rows[:, 4].astype(np.int8)]


def _transaction_rows(as_of: dt.date) -> list[list[np.ndarray]]:
    """Every transaction up to `as_of` as arrays: customer, day, amount, gross profit, is
    return; read as plainly as the database allows: grouping and sorting are cheaper in
    numpy than in SQL. In parts, each of whose customers all come before the next part's."""
    params = [TransactionKind.RETURN, as_of]
    if connection.vendor == "postgresql":
        return _packed_rows(params)
    select = (f"SELECT customer_id, {_day_sql('date')}, amount, amount - cost, "
              "CASE WHEN kind = %s THEN 1 ELSE 0 END FROM customers_transaction "
              "WHERE date <= %s")
    with connection.cursor() as cursor:
        # Counting the whole table is cheap (SQLite reads its smallest index) and bounds the
        # rows to come, so they fill one array instead of chunks copied together at the end.
        cursor.execute("SELECT COUNT(*) FROM customers_transaction")
        out = np.empty((cursor.fetchone()[0], 5))
        cursor.execute(select, params)
        filled = 0
        while rows := cursor.fetchmany(CHUNK):
            block = np.array(rows, dtype=np.float64)
            if filled + len(block) > len(out):  # rows added since the count
                out = np.concatenate([out[:filled], np.empty((len(block), 5))])
            out[filled:filled + len(block)] = block
            filled += len(block)
    return [_columns(out[:filled])]


# From about this many transactions on, PostgreSQL packs them on two connections at once
# (one per half of the customer ids): packing is the server's work, on one core per
# connection. At 14 million purchases: 5.7 s of the server's time instead of 9.9 s.
READ_TWO_HALVES_FROM = 1_000_000
_TRANSACTION_COLUMNS = [("customer_id", "int64"), ("date - DATE '1970-01-01'", "int64"),
                        ("amount", "float64"), ("amount - cost", "float64"),
                        ("CASE WHEN kind = %s THEN 1 ELSE 0 END", "int8")]


def _packed_rows(params: list) -> list[list[np.ndarray]]:
    """PostgreSQL: the transactions, packed (see _packed); a large table in two halves of
    the customer ids, packed by the server at once (_in_one_snapshot) and parsed in turn
    (two parses at once would hold both halves' text and tables together)."""
    source = "customers_transaction WHERE date <= %s"
    middle = None if connection.in_atomic_block else _middle_customer()
    if middle is None:
        return [_packed(_TRANSACTION_COLUMNS, source, "customer_id", params)]
    with tempfile.NamedTemporaryFile(suffix=".csv") as first, \
            tempfile.NamedTemporaryFile(suffix=".csv") as second:
        _in_one_snapshot(
            lambda: _spool(first, _TRANSACTION_COLUMNS, source + " AND customer_id <= %s",
                           "customer_id", [*params, middle]),
            lambda: _spool(second, _TRANSACTION_COLUMNS, source + " AND customer_id > %s",
                           "customer_id", [*params, middle]))
        return [_parsed(first, _TRANSACTION_COLUMNS), _parsed(second, _TRANSACTION_COLUMNS)]


def _middle_customer() -> int | None:
    """The customer id that halves the purchases' ids, or None when they are read whole: a
    table smaller than READ_TWO_HALVES_FROM (the planner's estimate: free, and enough to
    choose by), or of one customer. Inside a transaction (a caller's, or a test's) it is not
    asked: a second connection would not see that transaction's uncommitted rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'customers_transaction'")
        row = cursor.fetchone()
        if not row or row[0] < READ_TWO_HALVES_FROM:
            return None
        cursor.execute("SELECT MIN(customer_id), MAX(customer_id) FROM customers_transaction")
        low, high = cursor.fetchone()
    if low is None or low == high:
        return None
    return low + (high - low) // 2


def _in_one_snapshot(here: Callable[[], None], there: Callable[[], None]) -> None:
    """Run `here` on this connection and `there` on a second one at the same time, both in
    one snapshot (exported by this connection's transaction and taken up by the other's,
    as pg_dump's parallel jobs do), so that together they read the tables as one statement
    would: a purchase moved between two customers meanwhile (a merge) is read once."""
    def in_snapshot(snapshot: str) -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                there()
        finally:
            connection.close()  # this thread's own connection

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(in_snapshot, snapshot)
            here()
            other.result()


def _packed(columns: list[tuple[str, str]], source: str, key: str, params: list
            ) -> list[np.ndarray]:
    """PostgreSQL: `SELECT columns FROM source` as arrays (Arrow types named by `columns`),
    packed into CSV text by the server, the rows of a few thousand `key`s per result row,
    and parsed by Arrow; rows in no particular order. A driver handles each row it
    receives in Python (COPY included): ten million of them cost far more than the few
    thousand packed ones (2.8 million rows: 26 s by COPY, 11 s packed, on a busy machine).
    Each column is a number, or text that needs no quoting, and never NULL (concat_ws
    would leave it out and shift the columns after it): COALESCE(x::text, '') comes back
    as NaN."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as spool:
        _spool(spool, columns, source, key, params)
        return _parsed(spool, columns)


def _spool(spool, columns: list[tuple[str, str]], source: str, key: str, params: list
           ) -> None:
    """Write the packed text of `SELECT columns FROM source` into the file `spool`."""
    fields = ", ".join(sql for sql, _ in columns)
    sql = (f"SELECT string_agg(concat_ws(',', {fields}), E'\\n') FROM {source} "  # noqa: S608
           f"GROUP BY {key} / 2000")
    # A server-side cursor: the client would otherwise hold the whole result at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20):
            for (text,) in rows:
                spool.write(text.encode())
                spool.write(b"\n")
    spool.flush()


def _parsed(spool, columns: list[tuple[str, str]]) -> list[np.ndarray]:
    """The columns of the packed text in the file `spool` (see _spool), as arrays."""
    import pyarrow as pa
    from pyarrow import csv

    if not spool.tell():
        return [np.empty(0, dtype=object if kind == "string" else kind) for _, kind in columns]
    names = [f"c{i}" for i in range(len(columns))]
    # The system's allocator hands freed memory back at once, for the arrays that follow;
    # Arrow's own pool would keep the table's pages for Arrow alone.
    table = csv.read_csv(spool.name, memory_pool=pa.system_memory_pool(),
                         read_options=csv.ReadOptions(column_names=names),
                         convert_options=csv.ConvertOptions(column_types=dict(
                             zip(names, (kind for _, kind in columns), strict=True))))
    # Column by column, each column's Arrow memory let go once it is an array: a million
    # customers' transactions hold about 500 MB in either form.
    # Chunks are joined by numpy, not Arrow, whose default pool would keep the pages.
    out = []
    while table.num_columns:
        chunks = [chunk.to_numpy(zero_copy_only=False) for chunk in table.column(0).chunks]
        out.append(np.concatenate(chunks) if len(chunks) > 1 else chunks[0].copy())
        del chunks
        table = table.remove_column(0)
    return out


def _joined(parts: list[list[np.ndarray]], i: int) -> np.ndarray:
    """The parts' column `i` end to end, each part's let go as it is joined."""
    values = [part[i] for part in parts]
    for part in parts:
        part[i] = None
    return np.concatenate(values) if len(values) > 1 else values[0]


def transactions(as_of: dt.date, since: dt.date) -> tuple[PurchaseDays, Realised]:
    """The purchase days of every buyer and every customer's realised sales and profit
    (lifetime, and after `since`), from one read of the transactions."""
    parts = _transaction_rows(as_of)
    memory.give_back()  # the parser's buffers, before the sort's copies come
    # One sort by customer and day serves both. Each part is sorted on its own (its
    # customers all come before the next part's, so the parts joined in turn are in order),
    # and each array is put in order and the unordered one let go before the next (ten
    # million rows: about 100 MB an array).
    # The memory let go is handed back after each part and after the join: two parts'
    # copies otherwise stay with the process, about 160 MB at 14 million purchases.
    for part in parts:
        order = np.lexsort((part[1], part[0]))
        for i, values in enumerate(part):
            part[i] = values[order]
            del values
        del order
        memory.give_back()
    customer, day, amount, profit, is_return = (_joined(parts, i) for i in range(5))
    del parts
    memory.give_back()
    is_return = is_return > 0
    # Realised: every row, returns included.
    if customer.size:
        first = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
        recent = day > day_number(since)
        realised = Realised(
            customer[first], np.add.reduceat(amount, first), np.add.reduceat(profit, first),
            np.add.reduceat(np.where(recent, amount, 0.0), first),
            np.add.reduceat(np.where(recent, profit, 0.0), first))
        del first, recent
    else:
        empty = np.empty(0)
        realised = Realised(np.empty(0, dtype=np.int64), empty, empty, empty, empty)
    # Purchase days: orders only, same-day orders added up.
    keep = ~is_return
    del is_return
    customer = customer[keep]
    day = day[keep]
    amount = amount[keep]
    profit = profit[keep]
    del keep
    if customer.size:
        starts = np.flatnonzero(np.r_[True, (customer[1:] != customer[:-1])
                                      | (day[1:] != day[:-1])])
        purchase = PurchaseDays(customer[starts], day[starts], np.add.reduceat(amount, starts),
                                np.add.reduceat(profit, starts))
    else:
        empty = np.empty(0)
        purchase = PurchaseDays(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64),
                                empty, empty)
    return purchase, realised


@dataclass
class ServiceCost:
    """Per customer (sorted ids): what its activities cost, by activity-based costing."""

    customer: np.ndarray
    cost: np.ndarray
    cost_recent: np.ndarray


def service_cost(unit_costs: dict[str, float], as_of: dt.datetime, since: dt.datetime
                 ) -> ServiceCost:
    """Activities consume resources at each kind's unit cost."""
    kinds = [k for k, c in unit_costs.items() if c]
    if not kinds:
        empty = np.empty(0)
        return ServiceCost(np.empty(0, dtype=np.int64), empty, empty)
    marks = ", ".join(["%s"] * len(kinds))
    customer, kind_index, count, recent = _fetch(
        f"SELECT customer_id, kind, COUNT(*), SUM(CASE WHEN occurred_at > %s THEN 1 ELSE 0 END) "
        f"FROM sales_activity WHERE occurred_at <= %s AND kind IN ({marks}) "
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


_CODED = ("nature", "service_group", "industry", "size", "province")


def customer_base() -> dict[str, np.ndarray]:
    """Every customer, by id: id, owner, team (0 for none), lifecycle state (objects), and
    nature, service group, industry, size and province as integer codes (each value's
    place among the column's distinct values, sorted).

    The text columns are coded a chunk of rows at a time: a million customers' six text
    columns as Python strings would be six million strings (about 400 MB) for a few dozen
    distinct values. Equal states share one string."""
    ints: list[list[np.ndarray]] = [[], [], []]
    texts = ("state", *_CODED)
    coded: dict[str, tuple[list[np.ndarray], dict[str, int]]] = {k: ([], {}) for k in texts}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, owner_id, COALESCE(team_id, 0), lifecycle_state, nature, "
                       "service_group, industry, size, province FROM customers_customer "
                       "ORDER BY id")
        while rows := cursor.fetchmany(CHUNK):
            columns = list(zip(*rows, strict=True))
            del rows
            for i in range(3):
                ints[i].append(np.asarray(columns[i], dtype=np.int64))
            for name, values in zip(texts, columns[3:], strict=True):
                parts, seen = coded[name]
                parts.append(np.fromiter((seen.setdefault(v, len(seen)) for v in values),
                                         dtype=np.int64, count=len(values)))
    out = {name: np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
           for name, parts in zip(("id", "owner", "team"), ints, strict=True)}
    for name, (parts, seen) in coded.items():
        ordered = sorted(seen)
        rank = np.empty(len(seen), dtype=np.int64)
        rank[[seen[v] for v in ordered]] = np.arange(len(ordered))
        codes = rank[np.concatenate(parts)] if parts else np.empty(0, dtype=np.int64)
        out[name] = np.asarray(ordered, dtype=object)[codes] if name == "state" else codes
    return out


def previous_scores() -> list[np.ndarray]:
    """What the scores say now, by customer id: customer, segment, quadrant, P(alive) (NaN
    for none) and at risk."""
    if connection.vendor == "postgresql":
        # Segments and quadrants are codes (kehu.analytics.rules): no quoting needed.
        columns = _packed([("customer_id", "int64"), ("segment", "string"),
                           ("quadrant", "string"),
                           ("COALESCE(p_alive::text, '')", "float64"),
                           ("at_risk::text", "bool")], "analytics_customervalue", "customer_id", [])
        return _by_first(columns)
    return _fetch("SELECT customer_id, segment, quadrant, p_alive, at_risk FROM "
                  "analytics_customervalue ORDER BY customer_id", [],
                  [np.int64, object, object, np.float64, bool])


def _by_first(columns: list[np.ndarray]) -> list[np.ndarray]:
    """The rows ordered by their first column."""
    order = np.argsort(columns[0], kind="stable")
    return [values[order] for values in columns]


@dataclass
class Present:
    """The customers that exist now, sorted by id, with their owner."""

    id: np.ndarray
    owner: np.ndarray


def present_customers(first: int | None = None, last: int | None = None, *,
                      among: list[int] | None = None, lock: bool = True) -> Present:
    """The customers that exist now (those with ids from `first` to `last`, or all), read
    inside one of the refresh's write transactions.

    With `lock`, on PostgreSQL each row is locked FOR KEY SHARE until the transaction ends:
    the weakest lock there is. The scores have no foreign-key constraint in the database
    (kehu.analytics.models.CustomerValue): this lock is what keeps them from naming a
    customer that is gone. Taken first, it makes a concurrent deletion (which locks its
    customer FOR UPDATE before it deletes anything, see customers.services.delete_customer)
    either finish before this read, so that the customer is not here, or wait for the
    transaction to commit and then remove its fresh scores with the rest. Edits that lock a
    card FOR UPDATE wait for the write as well. On SQLite a write transaction is IMMEDIATE:
    it holds the database's one write lock, so nothing changes between this read and the
    commit. `among`: only those of these ids (sorted, from `first` to `last`)."""
    if first is None and not lock and connection.vendor == "postgresql":
        return Present(*_by_first(_packed([("id", "int64"), ("owner_id", "int64")],
                                          "customers_customer", "id", [])))
    sql, params = "SELECT id, owner_id FROM customers_customer", []
    if first is not None:
        sql += " WHERE id BETWEEN %s AND %s"
        params = [first, last]
        if among is not None:
            sql += f" AND id IN ({', '.join(['%s'] * len(among))})"
            params += among
    sql += " ORDER BY id"
    if lock and connection.vendor == "postgresql":
        sql += " FOR KEY SHARE"
    ids, owner = _fetch(sql, params, [np.int64, np.int64])
    return Present(ids, owner)


def only_customers(pd: PurchaseDays, ids: np.ndarray) -> PurchaseDays:
    """The purchase days of the customers in `ids` (sorted): the transactions are read after
    the customers, so a customer created in between may have some."""
    pos = np.minimum(np.searchsorted(ids, pd.customer), max(ids.size - 1, 0))
    keep = ids[pos] == pd.customer if ids.size else np.zeros(pd.customer.size, dtype=bool)
    return PurchaseDays(pd.customer[keep], pd.day[keep], pd.amount[keep], pd.profit[keep])
