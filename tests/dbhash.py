"""A fingerprint of a database's content: each table's rows, in primary-key order, hashed.

Two databases with the same fingerprint hold the same rows, value for value; tests compare
a database before a backup with the one it was restored into."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from decimal import Decimal

from django.apps import apps
from django.db import connections


def _canonical(value) -> str:
    if isinstance(value, memoryview | bytes | bytearray):
        return "b:" + bytes(value).hex()
    if isinstance(value, datetime | date | time):
        return "t:" + value.isoformat()
    if isinstance(value, Decimal):
        return "d:" + str(value)
    return f"{type(value).__name__}:{value!r}"


def table_hashes(alias: str = "default") -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of the rows)} for every model's table and Django's migrations."""
    tables = {m._meta.db_table: m._meta.pk.column
              for m in apps.get_models(include_auto_created=True)}
    tables["django_migrations"] = "id"
    conn = connections[alias]
    qn = conn.ops.quote_name
    present = set(conn.introspection.table_names())
    result = {}
    with conn.cursor() as cursor:
        for table, pk in sorted(tables.items()):
            if table not in present:
                continue
            cursor.execute(f"SELECT * FROM {qn(table)} ORDER BY {qn(pk)}")  # noqa: S608
            digest = hashlib.sha256()
            rows = 0
            for row in cursor.fetchall():
                digest.update("\x1f".join(_canonical(v) for v in row).encode())
                digest.update(b"\x1e")
                rows += 1
            result[table] = (rows, digest.hexdigest())
    return result
