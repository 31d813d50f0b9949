"""The database's full-text index over Article.search_text, and the query through it.

SQLite: an FTS5 table (unicode61: a token per run of letters, so per segmented word) kept
in step with the article table by triggers, ranked by bm25. PostgreSQL: a GIN index on
to_tsvector('simple', search_text), ranked by ts_rank; the `simple` configuration only
lower-cases, so the words are jieba's on both sides.

`install` is idempotent and runs after every migration (a migration that remakes the table
on SQLite drops its triggers).

A query's words must all be in an article (mode ALL, the search box and ?q=) or any of them
(mode ANY, the suggestions while a ticket is written, ranked by how many and how rare). A
Latin word of three letters or more also matches the words it begins (print → printer).
"""

from __future__ import annotations

from django.db import connections
from django.db.models import BooleanField, IntegerField, QuerySet
from django.db.models.expressions import RawSQL

from kehu.service.knowledge.segment import is_latin

TABLE = "service_article"
FTS = "service_article_fts"
PG_INDEX = "service_article_search_words"
PG_VECTOR = "to_tsvector('simple'::regconfig, service_article.search_text)"
ALL, ANY = "all", "any"
# Relevance as an integer (the sort key of a page): bm25 and ts_rank × a million.
SCALE = 1_000_000


def _triggers() -> dict[str, str]:
    delete = f"INSERT INTO {FTS}({FTS}, rowid, search_text) VALUES ('delete', old.id, " \
             f"old.search_text);"
    insert = f"INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text);"
    return {
        f"{FTS}_insert": f"AFTER INSERT ON {TABLE} BEGIN {insert} END",
        f"{FTS}_delete": f"AFTER DELETE ON {TABLE} BEGIN {delete} END",
        f"{FTS}_update": f"AFTER UPDATE OF search_text ON {TABLE} BEGIN {delete} {insert} END",
    }


def install(connection) -> None:
    if TABLE not in connection.introspection.table_names():
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {TABLE} USING gin "
                           f"(to_tsvector('simple'::regconfig, search_text))")
        return
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        existing = {row[0] for row in cursor.fetchall()}
        triggers = _triggers()
        if FTS in existing and existing >= set(triggers):
            return
        if FTS not in existing:
            cursor.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5(search_text, "
                           f"content='{TABLE}', content_rowid='id', tokenize='unicode61')")
        for name, body in triggers.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        # Rows may have changed while the triggers were missing: index them afresh.
        cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        elif connection.vendor == "sqlite":
            for name in _triggers():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS}")


def _prefix(word: str) -> bool:
    return is_latin(word) and len(word) >= 3 and not word.isdigit()


def fts5_query(words: list[str], mode: str) -> str:
    """An FTS5 query of `words` (letters and digits only, see segment._WORD), each quoted."""
    terms = [f'"{w}"*' if _prefix(w) else f'"{w}"' for w in words]
    return (" AND " if mode == ALL else " OR ").join(terms)


def tsquery(words: list[str], mode: str) -> str:
    """A PostgreSQL to_tsquery text of `words`, each quoted."""
    terms = [f"'{w}':*" if _prefix(w) else f"'{w}'" for w in words]
    return (" & " if mode == ALL else " | ").join(terms)


def matching(qs: QuerySet, words: list[str], mode: str = ALL) -> QuerySet:
    """The articles of `qs` that hold the words (all or any), annotated with `relevance`
    (an integer, higher is better). No words: `qs` unchanged, relevance 0."""
    if not words:
        return qs.annotate(relevance=RawSQL("0", (), output_field=IntegerField()))
    vendor = connections[qs.db].vendor
    if vendor == "sqlite":
        query = fts5_query(words, mode)
        return qs.filter(pk__in=RawSQL(
            f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s", (query,))).annotate(
            relevance=RawSQL(
                f"(SELECT CAST(-bm25({FTS}) * {SCALE} AS INTEGER) FROM {FTS} "
                f"WHERE {FTS} MATCH %s AND rowid = {TABLE}.id)", (query,),
                output_field=IntegerField()))
    if vendor == "postgresql":
        query = tsquery(words, mode)
        return qs.filter(RawSQL(f"{PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)",
                                (query,), output_field=BooleanField())).annotate(
            relevance=RawSQL(
                f"CAST(ts_rank({PG_VECTOR}, to_tsquery('simple'::regconfig, %s)) * {SCALE} "
                f"AS integer)", (query,), output_field=IntegerField()))
    raise NotImplementedError(f"no full-text search on {vendor}")
