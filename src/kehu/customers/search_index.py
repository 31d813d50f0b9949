"""The database indexes behind customer search and the query through them (see
kehu.customers.search for the keys).

SQLite: two FTS5 tables over customers_customer.search_text — trigrams for substrings of
three characters or more, words with prefix tables for one or two letters — kept in step by
triggers. PostgreSQL: a pg_trgm GIN index and a full-text GIN index on the same column.

`install` is idempotent and runs after every migration: on SQLite, a migration that remakes
the customer table (as SQLite's ALTER TABLE requires for most field changes) drops its
triggers silently, and search would drift from the data without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from kehu.customers.search import index_term, is_word_start, query_key

TABLE = "customers_customer"
SQLITE_INDEXES = {  # FTS5 table name: its tokenizer options
    "customers_customer_fts": "tokenize='trigram'",
    "customers_customer_words": "tokenize='unicode61', prefix='1 2'",
}
POSTGRES = {  # index name: its definition
    "customers_customer_search_trgm": "USING gin (search_text gin_trgm_ops)",
    "customers_customer_search_words": "USING gin (to_tsvector('simple'::regconfig, search_text))",
}


def _sqlite_triggers(fts: str) -> dict[str, str]:
    delete = (
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    )
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    return {
        f"{fts}_insert": f"AFTER INSERT ON {TABLE} BEGIN {insert} END",
        f"{fts}_delete": f"AFTER DELETE ON {TABLE} BEGIN {delete} END",
        f"{fts}_update": f"AFTER UPDATE OF search_text ON {TABLE} BEGIN {delete} {insert} END",
    }


def install(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
            missing = set(POSTGRES) - {row[0] for row in cursor.fetchall()}
            if missing:
                # pg_trgm is trusted: the database owner may create it without superuser.
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name in sorted(missing):
                cursor.execute(f"CREATE INDEX {name} ON {TABLE} {POSTGRES[name]}")
        return
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        existing = {row[0] for row in cursor.fetchall()}
        if TABLE not in existing:
            return
        for fts, options in SQLITE_INDEXES.items():
            triggers = _sqlite_triggers(fts)
            if fts in existing and existing >= set(triggers):
                continue
            if fts not in existing:
                cursor.execute(
                    f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, "
                    f"content='{TABLE}', content_rowid='id', {options})"
                )
            for name, body in triggers.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
            # Rows may have changed while the triggers were missing: index them afresh.
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in POSTGRES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
        elif connection.vendor == "sqlite":
            for fts in SQLITE_INDEXES:
                for name in _sqlite_triggers(fts):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(f"DROP TABLE IF EXISTS {fts}")


def matching(qs: QuerySet, q: str) -> QuerySet:
    """The customers of `qs` whose search keys contain what the user typed, found through
    the indexes and then checked exactly. Selectors call it on a queryset already limited
    to what the user may see (kehu.customers.selectors.search_customers)."""
    key = query_key(q)
    if not key:
        return qs
    return index_lookup(qs, key).filter(search_text__contains=key)


def fts_phrase(text: str) -> str:
    """`text` as an FTS5 string: matched literally, whatever characters it holds."""
    return '"' + text.replace('"', '""') + '"'


def index_lookup(qs: QuerySet, key: str) -> QuerySet:
    """Narrow `qs` through the database's search index to the customers whose search keys
    may contain `key` (never losing one); matching checks them exactly."""
    vendor = connections[qs.db].vendor
    term = index_term(key)
    if term is not None:
        if vendor == "sqlite":
            # The trigram table matches the term as one quoted phrase: consecutive trigrams,
            # i.e. a substring, with no wildcard in it (only " is special, written twice).
            # LIKE would read % and _ as wildcards, and LIKE ... ESCAPE bypasses the index.
            return qs.filter(pk__in=RawSQL(
                "SELECT rowid FROM customers_customer_fts WHERE customers_customer_fts "
                "MATCH %s", (fts_phrase(term),)))
        # PostgreSQL's pg_trgm index answers the exact check (LIKE) itself.
        return qs if term == key else qs.filter(search_text__contains=term)
    if not is_word_start(key):
        return qs  # e.g. "@x": scanned, there is no index for it
    if vendor == "sqlite":
        return qs.filter(pk__in=RawSQL(
            "SELECT rowid FROM customers_customer_words WHERE customers_customer_words "
            "MATCH %s", (f'"{key}"*',)))
    if vendor == "postgresql":
        return qs.filter(RawSQL("to_tsvector('simple'::regconfig, search_text) @@ "
                                "to_tsquery('simple'::regconfig, %s)", (f"{key}:*",),
                                output_field=BooleanField()))
    return qs


# How many matches a search may have and still be read through the search indexes and
# sorted (at 1M customers: about 70 ms for 20,000 of them). In an order that matches cluster
# in (a name search in name order), a walk of the order's index may read most of the table
# before it meets them, so the limit is high; above it, matches are so dense that a walk
# meets a page of them within a few rows. In other orders (time created, state) matches are
# scattered, and a walk meets a page after about 50 × customers / matches rows: quicker
# than reading and sorting every match unless they are few.
READ_AND_SORT_CLUSTERED = 60_000
READ_AND_SORT_SCATTERED = 5_000
_PLAN_SETTINGS = ("enable_indexscan", "enable_indexonlyscan")


@contextmanager
def matches_read_first(qs: QuerySet, matches: int | None = None, *,
                       at_most: int = READ_AND_SORT_CLUSTERED) -> Iterator[None]:
    """Run the queries in the block — a page of the search `qs` in some order — so that
    PostgreSQL finds the matching customers through the search indexes and sorts them,
    when they are at most `at_most`.

    Left alone, the planner often walks the index of the list's order instead and tests
    customer after customer until it has a page: its guess of how many customers contain a
    fragment is off by orders of magnitude, and matches of a name search cluster in name
    order (王… sorts under "wang"), so the walk reads most of a million customers — 1.2 to
    1.5 s for a page that the search index finds and sorts in 5 to 70 ms. Plain index scans
    are turned off for the block (bitmap scans of the search and primary-key indexes
    remain) and back as they were after it. `matches`: how many customers `qs` holds, when
    known (the list's exact count); otherwise counted, up to `at_most`. Other databases
    run the block as it is."""
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        yield
        return
    if matches is None:
        matches = qs.order_by()[:at_most + 1].count()
    if matches > at_most:
        yield
        return
    with transaction.atomic(using=qs.db):
        with connection.cursor() as cursor:
            # SET LOCAL outlives a savepoint: inside a caller's transaction the settings
            # are put back by hand, or its later queries would run without index scans.
            cursor.execute("SELECT " + ", ".join(
                f"current_setting('{name}')" for name in _PLAN_SETTINGS))
            before = cursor.fetchone()
            _set(cursor, ["off"] * len(_PLAN_SETTINGS))
        yield
        with connection.cursor() as cursor:
            _set(cursor, before)


def _set(cursor, values) -> None:
    """Give the planner settings these values until the transaction ends (one statement)."""
    cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(_PLAN_SETTINGS)),
                   [v for pair in zip(_PLAN_SETTINGS, values, strict=True) for v in pair])


def first_by_name(searched: QuerySet, limit: int) -> list:
    """The first `limit` customers of a search (a queryset the caller scoped to the user
    and filtered by what they typed) in name order, read the way their number calls for:
    the pickers that offer customers as the user types."""
    with matches_read_first(searched):
        return list(searched.order_by("name_sort", "pk")[:limit])
