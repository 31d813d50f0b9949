"""Writing many plain rows at once, for jobs that write a row per customer of a large base.

bulk_create builds, validates and compiles a model instance per row: at a million rows that
is most of a job's time. These take tuples instead: PostgreSQL gets COPY (through a
temporary table when rows may already exist), SQLite gets executemany in the write
transaction the caller holds. Values are None, int, float, str, date or Decimal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection

CHUNK = 10_000


def _sqlite(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def write_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence], *,
               conflict: str | None = None, plain: bool = False) -> None:
    """Insert `rows` (values in `columns` order) into `table`; with `conflict`, a row whose
    `conflict` column matches an existing one replaces that row's other columns. `plain`:
    the rows hold only None, numbers and strings (dates already as text on SQLite), so they
    go to the database as they are."""
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    update = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in columns if c != conflict)
    on_conflict = f" ON CONFLICT ({qn(conflict)}) DO UPDATE SET {update}" if conflict else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            target = table
            if conflict:
                target = f"kehu_bulk_{table}"
                cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {qn(target)} "
                               f"(LIKE {qn(table)} INCLUDING DEFAULTS) ON COMMIT DROP")
                cursor.execute(f"TRUNCATE {qn(target)}")
            with cursor.cursor.copy(f"COPY {qn(target)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if conflict:
                cursor.execute(f"INSERT INTO {qn(table)} ({names}) SELECT {names} FROM "
                               f"{qn(target)}{on_conflict}")
            return
        sql = (f"INSERT INTO {qn(table)} ({names}) VALUES "
               f"({', '.join(['%s'] * len(columns))}){on_conflict}")
        chunk: list = []
        for row in rows:
            chunk.append(row if plain else tuple(_sqlite(v) for v in row))
            if len(chunk) >= CHUNK:
                cursor.executemany(sql, chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
