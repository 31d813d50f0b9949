"""Exact counts of customer lists, remembered until any customer changes.

Counting a million customers, or the hundred thousand a common search fragment matches,
takes the database longer than a list page may take; a count asked again (the list paged,
re-sorted, opened by the next person) is answered from Django's cache instead.

A remembered count is never stale: it is stored with the generation of the customer table
it was counted at, and used only while the generation is still the same. Database triggers
raise the generation with every statement that inserts, updates, deletes or truncates
customers, in the writer's own transaction, so a change and its new generation become
visible together. The count and its generation are read in one statement (one snapshot).
Counts are cached only outside transactions: inside one, the transaction's own uncommitted
changes would be counted under a generation that a rollback would give back.

Only counts that read nothing but the customer table (and its search indexes, kept in step
by triggers of their own) are cached: a filter by value scores reads another table, whose
changes do not raise the generation.

PostgreSQL spreads the generation over a few rows (each connection raises its own), so
that concurrent writers do not queue on one row; the generation is their sum. SQLite, with
its one writer at a time, has one row. Like the search index (kehu.customers.search_index),
`install` is idempotent and runs after every migration, because SQLite drops a table's
triggers when a migration remakes the table. A restored backup would bring back the
generation it was taken at, which the original went on from with other changes: `kehu
restore` moves it to a random generation of its own (renew, on kehu.core.backup.restored).
"""

from __future__ import annotations

import hashlib
import re

from django.core.cache import cache
from django.db import connections
from django.db.models import QuerySet

TABLE = "customers_customer"
# Tables whose rows change only together with a customer row (FTS5 tables filled by triggers).
READS_ONLY = {TABLE, "customers_customer_fts", "customers_customer_words"}
_TABLES = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)
_CACHE_SECONDS = 24 * 3600

_PG_INSTALL = [
    "CREATE TABLE IF NOT EXISTS customers_customer_generation "
    "(slot integer PRIMARY KEY, n bigint NOT NULL)",
    "INSERT INTO customers_customer_generation (slot, n) SELECT s, 0 FROM generate_series(0, 15) s "
    "ON CONFLICT DO NOTHING",
    """CREATE OR REPLACE FUNCTION customers_customer_generation_raise() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE customers_customer_generation SET n = n + 1 WHERE slot = pg_backend_pid() % 16;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS customers_customer_generation_raise ON customers_customer",
    "CREATE TRIGGER customers_customer_generation_raise "
    "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON customers_customer "
    "FOR EACH STATEMENT EXECUTE FUNCTION customers_customer_generation_raise()",
]
_SQLITE_INSTALL = [
    "CREATE TABLE IF NOT EXISTS customers_customer_generation "
    "(slot integer PRIMARY KEY, n integer NOT NULL)",
    "INSERT OR IGNORE INTO customers_customer_generation (slot, n) VALUES (0, 0)",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_generation_insert AFTER INSERT ON "
    "customers_customer BEGIN UPDATE customers_customer_generation SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_generation_update AFTER UPDATE ON "
    "customers_customer BEGIN UPDATE customers_customer_generation SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_generation_delete AFTER DELETE ON "
    "customers_customer BEGIN UPDATE customers_customer_generation SET n = n + 1; END",
]
_UNINSTALL = {
    "postgresql": ["DROP TRIGGER IF EXISTS customers_customer_generation_raise "
                   "ON customers_customer",
                   "DROP FUNCTION IF EXISTS customers_customer_generation_raise()",
                   "DROP TABLE IF EXISTS customers_customer_generation"],
    "sqlite": [*(f"DROP TRIGGER IF EXISTS customers_customer_generation_{event}"
                 for event in ("insert", "update", "delete")),
               "DROP TABLE IF EXISTS customers_customer_generation"],
}
_GENERATION = "SELECT COALESCE(SUM(n), 0) FROM customers_customer_generation"


def install(connection) -> None:
    statements = {"postgresql": _PG_INSTALL, "sqlite": _SQLITE_INSTALL}.get(connection.vendor)
    if statements is None:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        # Customers may have changed while the triggers were missing.
        cursor.execute("UPDATE customers_customer_generation SET n = n + 1")


def renew(connection) -> None:
    """Move the customer table to a generation its history never had: a restored backup
    brings back the generation it was taken at, which the original database went on from
    with other changes, and a kehu that kept running would take the counts it remembered at
    those generations for the restored customers'."""
    import secrets

    if "customers_customer_generation" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer_generation SET n = n + %s",
                       [secrets.randbits(40) + 1])


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _UNINSTALL.get(connection.vendor, []):
            cursor.execute(statement)


def exact_count(queryset: QuerySet) -> int:
    """The number of rows of `queryset` (a queryset of customers), from the cache when no
    customer changed since it was counted."""
    queryset = queryset.order_by()
    connection = connections[queryset.db]
    sql, params = queryset.values("pk").query.sql_with_params()
    if (connection.in_atomic_block or connection.vendor not in {"postgresql", "sqlite"}
            or not {t.lower() for t in _TABLES.findall(sql)} <= READS_ONLY):
        return queryset.count()
    key = "kehu.list_count:" + hashlib.sha256(repr(
        (connection.vendor, connection.settings_dict["NAME"], sql, params)).encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(_GENERATION)
        generation = cursor.fetchone()[0]
        cached = cache.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        # One statement: the count and the generation it belongs to from one snapshot.
        cursor.execute(f"SELECT ({_GENERATION}), (SELECT COUNT(*) FROM ({sql}) counted)",  # noqa: S608 - Django's own SQL
                       params)
        generation, count = cursor.fetchone()
    cache.set(key, (generation, count), _CACHE_SECONDS)
    return count
