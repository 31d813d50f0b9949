"""Writing many plain rows at once: the value refresh's scores, lifecycle transitions in
bulk, and the import's transactions.

bulk_create builds, validates and compiles a model instance per row: at a million rows that
is most of a job's time. write_rows takes tuples instead: PostgreSQL gets COPY (through a
temporary table when rows may already exist), SQLite gets executemany in the write
transaction the caller holds. Values are None, int, float, str, bool, date, datetime or
Decimal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError, connection

CHUNK = 10_000


def write_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence], *,
               conflict: str | None = None, plain: bool = False,
               constants: Mapping[str, Any] | None = None, new_ids: bool = False,
               binary: bool = False) -> Sequence[int]:
    """Insert `rows` (values in `columns` order) into `table`.

    - `conflict`: a row whose `conflict` column matches an existing one replaces that row's
      other columns.
    - `plain`: the rows hold only None, numbers and strings (dates already as text on
      SQLite), so they go to SQLite as they are.
    - `constants`: {column: value} written in every row after its own values (who created
      the rows and when), without repeating them in each tuple.
    - `new_ids`: the rows get ids allocated here, returned in the order of the rows, so
      that the caller knows exactly which rows are its own: from the table's sequence on
      PostgreSQL, and after the largest id ever used on SQLite, whose write lock the
      caller's transaction must already hold (it has written before).
    - `binary`: every value is of the Python type that stands for its column's type
      (Decimal for numeric, date, aware datetime, int, float, str, bool; no JSON as text),
      so that PostgreSQL can take COPY's binary format, which costs the writer a fraction of
      the text format's conversions.

    Returns the new ids, or () without `new_ids`."""
    constants = dict(constants or {})
    names = [*(["id"] if new_ids else []), *columns, *constants]
    if new_ids:
        if conflict:
            raise ValueError("new rows get new ids; rows that may exist keep theirs")
        rows = rows if isinstance(rows, list) else list(rows)
    with connection.cursor() as cursor:
        ids = _allocate(cursor, table, len(rows)) if new_ids else ()
        if connection.vendor == "postgresql":
            _copy(cursor, table, names, _full_rows(rows, ids, tuple(constants.values())),
                  conflict=conflict, binary=binary)
        elif connection.vendor == "sqlite":
            tail = tuple(_sqlite(v) for v in constants.values())
            _executemany(cursor, table, names,
                         _full_rows(rows, ids, tail, None if plain else _sqlite),
                         conflict=conflict)
        else:
            raise NotSupportedError(f"write_rows knows PostgreSQL and SQLite, not "
                                    f"{connection.vendor}")
    return ids


def _full_rows(rows: Iterable[Sequence], ids: Sequence[int], tail: tuple,
               convert: Callable[[Any], Any] | None = None) -> Iterator[Sequence]:
    """Each row with its id before it and `tail` after it, its values passed through
    `convert`; built in one go per row, which a million rows notice."""
    if convert is not None:
        if ids:
            return ((pk, *map(convert, row), *tail) for pk, row in zip(ids, rows, strict=True))
        return ((*map(convert, row), *tail) for row in rows)
    if ids:
        return ((pk, *row, *tail) for pk, row in zip(ids, rows, strict=True))
    if tail:
        return ((*row, *tail) for row in rows)
    return iter(rows)


def _allocate(cursor, table: str, n: int) -> Sequence[int]:
    if n <= 0:
        return ()
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                       "FROM generate_series(1, %s)", [table, n])
        return [r[0] for r in cursor.fetchall()]
    if connection.vendor != "sqlite":
        raise NotSupportedError(f"write_rows allocates ids on PostgreSQL and SQLite, not "
                                f"{connection.vendor}")
    cursor.execute(f"SELECT MAX(id) FROM {qn(table)}")
    top = cursor.fetchone()[0] or 0
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    seq = cursor.fetchone()
    start = max(top, seq[0] if seq else 0) + 1
    return range(start, start + n)


def _copy(cursor, table: str, names: list[str], rows: Iterable[Sequence], *,
          conflict: str | None, binary: bool) -> None:
    qn = connection.ops.quote_name
    listed = ", ".join(qn(c) for c in names)
    target = table
    if conflict:
        target = f"kehu_bulk_{table}"
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {qn(target)} "
                       f"(LIKE {qn(table)} INCLUDING DEFAULTS) ON COMMIT DROP")
        cursor.execute(f"TRUNCATE {qn(target)}")
    types = None
    if binary:
        cursor.execute(f"SELECT {listed} FROM {qn(table)} LIMIT 0")
        types = [column.type_code for column in cursor.description]
    with cursor.cursor.copy(f"COPY {qn(target)} ({listed}) FROM STDIN"
                            + (" (FORMAT BINARY)" if binary else "")) as copy:
        if types is not None:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    if conflict:
        update = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in names if c != conflict)
        cursor.execute(f"INSERT INTO {qn(table)} ({listed}) SELECT {listed} FROM "
                       f"{qn(target)} ON CONFLICT ({qn(conflict)}) DO UPDATE SET {update}")


def _executemany(cursor, table: str, names: list[str], rows: Iterable[Sequence], *,
                 conflict: str | None) -> None:
    qn = connection.ops.quote_name
    on_conflict = ""
    if conflict:
        update = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in names if c != conflict)
        on_conflict = f" ON CONFLICT ({qn(conflict)}) DO UPDATE SET {update}"
    sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in names)}) VALUES "
           f"({', '.join(['%s'] * len(names))}){on_conflict}")
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            cursor.executemany(sql, chunk)
            chunk.clear()
    if chunk:
        cursor.executemany(sql, chunk)


def _sqlite(value: Any) -> Any:
    """A value as Django stores it in SQLite (text for dates, times and decimals)."""
    cls = value.__class__
    if cls is Decimal:
        return str(value)
    if cls is dt.date:
        return value.isoformat()
    if cls is str or cls is int or cls is float or cls is bool or value is None:
        return value
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def copy_columns(model, columns: Mapping[str, Sequence]) -> None:
    """PostgreSQL only: insert rows of `model`'s table given column by column ({column:
    values}), through Arrow into CSV text and one COPY. The values of a column are a list
    of the Python types write_rows takes, None for NULL, or a numpy array: NULL where a
    float is not finite, a datetime64 is NaT, or a masked array is masked. write_rows hands
    each row to the driver, which turns every value into text in Python: at a million rows
    of forty columns that is most of the writing, and Arrow does it in C."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    fields = {f.column: f for f in model._meta.concrete_fields}
    names = list(columns)
    data = pa.table({name: _arrow_column(columns[name], _arrow_type(fields[name]))
                     for name in names})
    sink = io.BytesIO()
    # Strings are always quoted, so that an empty string stays one; NULL is left empty.
    pacsv.write_csv(data, sink, pacsv.WriteOptions(include_header=False))
    qn = connection.ops.quote_name
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {qn(model._meta.db_table)} ({', '.join(qn(n) for n in names)}) "
            "FROM STDIN (FORMAT csv)") as copy:
        copy.write(sink.getbuffer())


def _nulls(values):
    """A numpy column's data and where it is NULL (see copy_columns), None for nowhere."""
    import numpy as np

    if np.ma.isMaskedArray(values):
        return np.ma.getdata(values), np.ma.getmaskarray(values)
    if values.dtype.kind == "f":
        return values, ~np.isfinite(values)
    if values.dtype.kind == "M":
        return values, np.isnat(values)
    return values, None


def plain_values(values) -> list:
    """A numpy column (NULL as copy_columns reads it) as write_rows' plain rows take it on
    SQLite: None for NULL, dates as ISO text."""
    import numpy as np

    data, missing = _nulls(values)
    if missing is None:
        return data.tolist()
    out = (np.datetime_as_string(data) if data.dtype.kind == "M" else data).astype(object)
    out[missing] = None
    return out.tolist()


def _arrow_column(values, kind):
    """`values` (see copy_columns) as an Arrow array of type `kind`."""
    import numpy as np
    import pyarrow as pa

    if not isinstance(values, np.ndarray):
        return pa.array(values, type=kind)
    values, missing = _nulls(values)
    if missing is not None and not missing.any():
        missing = None
    return pa.array(values, type=kind, mask=missing)


def _arrow_type(field):
    """The Arrow type that writes `field`'s values as PostgreSQL reads them: decimals as
    floats (already rounded to the field's places), since Arrow writes the shortest text
    that reads back as the same number."""
    import pyarrow as pa

    field = field.target_field if field.is_relation else field
    kind = field.get_internal_type()
    if kind in {"DecimalField", "FloatField"}:
        return pa.float64()
    if kind == "DateField":
        return pa.date32()
    if kind == "DateTimeField":  # aware datetimes, written in UTC
        return pa.timestamp("us", tz="UTC")
    if kind == "BooleanField":
        return pa.bool_()
    if kind in {"CharField", "TextField", "SlugField", "EmailField"}:
        return pa.string()
    if "Integer" in kind or kind in {"AutoField", "BigAutoField", "SmallAutoField"}:
        return pa.int64()
    raise NotSupportedError(f"copy_columns does not write {kind} ({field.name})")
