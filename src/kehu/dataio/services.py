"""Importing files all or nothing, and undoing an import.

An import reads the file once and checks every row, collecting every problem (line, column,
reason) without writing anything; the checked rows wait in a temporary file. A file with any
problem is refused whole. Otherwise the checked rows are written in chunks with bulk inserts,
inside one database transaction together with the batch that records them. Killing the
process at any point leaves the database as it was, and running the import again succeeds.
What changes between the check and the write (a customer deleted meanwhile, an external id
taken) makes the database refuse the transaction, and the import reports it and writes
nothing.
"""

from __future__ import annotations

import os
import pickle
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from kehu.accounts import policy
from kehu.accounts.models import Role, User
from kehu.accounts.permissions import CHANGE, CONTRIBUTE, VIEW, restrict
from kehu.audit.services import record
from kehu.core.errors import NotPermitted, ServiceError
from kehu.customers import invariants
from kehu.customers.models import (
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    LifecycleState,
    Product,
    Transaction,
    TransactionKind,
    TransactionLine,
    TransitionSource,
)
from kehu.dataio import normalise
from kehu.dataio.cleaning import CellError, cleaner_for, text
from kehu.dataio.mapping import (
    FIELDS,
    MODELS,
    REQUIRED,
    ColumnMapping,
    field_label,
    load_mapping,
    resolve,
)
from kehu.dataio.models import (
    BatchStatus,
    ImportBatch,
    ImportedRows,
    ImportedUpdate,
    ImportKind,
    ImportMapping,
)
from kehu.dataio.readers import FileRefused, TableFile, open_table
from kehu.sales.models import Activity

CHUNK_SIZE = 5000
# Enough to fix a file by; a file that is wrong on every line says so in the first ones.
MAX_REPORTED_ERRORS = 10_000
# A pause after each written chunk, in seconds: lets a test kill an import half-way.
PAUSE_ENV = "KEHU_IMPORT_PAUSE_AFTER_CHUNK"

Progress = Callable[[str, int, int | None], None]


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.line:  # about the whole file, not one of its lines
            return self.message
        where = _("line %(line)d") % {"line": self.line}
        if self.column:
            where += _(", column “%(column)s”") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    batch_id: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, column, message))


# Importers ----------------------------------------------------------------------------------

class _Importer:
    """Checks rows of one kind and writes the good ones."""

    kind: str
    model: type[models.Model]
    key_label = ""
    history = False

    def __init__(self, user: User, mapping: ColumnMapping, *, owner: User | None,
                 update_existing: bool):
        self.user = user
        self.mapping = mapping
        self.default_owner = owner or user
        self.update_existing = update_existing
        self.header_of = mapping.field_to_header()
        self.seen_keys: dict[Any, int] = {}
        self.cleaners: list[tuple[str, str, Callable[[Any], Any]]] = []
        self.now = timezone.now()
        self.required_fields = set(REQUIRED[self.kind])
        for header, name in mapping.columns.items():
            cleaner = self.cleaner(name)
            if cleaner is not None:
                self.cleaners.append((header, name, cleaner))

    # Set-up -------------------------------------------------------------------------------
    def cleaner(self, name: str) -> Callable[[Any], Any] | None:
        return cleaner_for(self.model._meta.get_field(name))

    def file_problems(self) -> list[str]:
        """Problems with the file as a whole, once the mapping is known."""
        return []

    def prepare(self) -> None:
        """Load what rows are checked against (customers, owners...)."""

    # Per row -------------------------------------------------------------------------------
    def clean(self, line: int, row: Mapping[str, Any], report: ImportReport) -> dict | None:
        values: dict[str, Any] = {}
        ok = True
        if row.get(""):
            report.add_error(line, "", _("The row has more cells than the header has "
                                         "columns."))
            ok = False
        for header, name, cleaner in self.cleaners:
            raw = row.get(header)
            if raw is None or raw == "" or (raw.__class__ is str and raw.isspace()):
                if name in self.required_fields:
                    report.add_error(line, header, _("This field is required."))
                    ok = False
                continue
            try:
                values[name] = cleaner(raw)
            except CellError as exc:
                report.add_error(line, header, exc.message)
                ok = False
        # The checks against the database run on the good cells even when others are bad,
        # so that one pass over the file names every problem.
        try:
            checked = self.check(line, values, report)
        except KeyError:  # a required cell was missing or bad, and is already reported
            return None
        return checked if ok else None

    def check(self, line: int, values: dict, report: ImportReport) -> Any:
        """Checks across fields and against the database; returns the row to write."""
        return values

    def finish_checks(self, report: ImportReport) -> None:
        """Checks made on many rows at once, after the last row (and between chunks)."""

    def updates(self, row: Any) -> bool:
        """Whether the checked row updates an existing record."""
        return isinstance(row, dict) and row.get("_target") is not None

    def duplicate(self, key: Any, line: int, column: str, report: ImportReport) -> bool:
        first = self.seen_keys.setdefault(key, line)
        if first != line:
            report.add_error(line, column, _("Duplicate of line %(line)d in this file.")
                             % {"line": first})
            return True
        return False

    # Writing ------------------------------------------------------------------------------
    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        """Write one chunk; returns (created, updated)."""
        raise NotImplementedError

    def _record_created(self, batch: ImportBatch, objs: Iterable[models.Model]) -> None:
        _record_ids(batch, self.model, (o.pk for o in objs))

    # Shared lookups -----------------------------------------------------------------------
    def _customer_refs(self, action: str) -> None:
        """external id → id and exact name → id over the customers the user may act on."""
        self.customer_by_ref: dict[str, int | None] = {}
        by_name: dict[str, int | None] = {}
        qs = restrict(Customer.objects.all(), self.user, action)
        for pk, external_id, name in qs.values_list("id", "external_id", "name").iterator(
                chunk_size=20_000):
            if external_id:
                self.customer_by_ref[external_id] = pk
            key = name.strip()
            # A name shared by two customers identifies neither.
            by_name[key] = None if key in by_name and by_name[key] != pk else pk
        for name, pk in by_name.items():
            self.customer_by_ref.setdefault(name, pk)
        self.ambiguous_names = {n for n, pk in by_name.items() if pk is None}

    def _customer(self, line: int, values: dict, report: ImportReport) -> int | None:
        ref = str(values.pop("customer"))
        pk = self.customer_by_ref.get(ref)
        if pk is None:
            column = self.header_of["customer"]
            if ref in self.ambiguous_names:
                report.add_error(line, column, _("More than one customer is named “%(ref)s”; "
                                                 "use the customer's external id.")
                                 % {"ref": ref})
            else:
                report.add_error(line, column, _("Unknown customer “%(ref)s” (or one you may "
                                                 "not change).") % {"ref": ref})
        return pk

    def _sensitive_problems(self, sensitive: Iterable[str]) -> list[str]:
        if self.user.sees_sensitive:
            return []
        return [_("Column “%(header)s” (%(field)s) is in the sensitive tier, which you may not "
                  "set.") % {"header": self.header_of[name],
                             "field": field_label(self.kind, name)}
                for name in sensitive if name in self.header_of]


class _CustomerImporter(_Importer):
    kind = ImportKind.CUSTOMERS
    model = Customer
    history = True

    def cleaner(self, name: str):
        if name == "owner":
            return text
        return super().cleaner(name)

    def file_problems(self) -> list[str]:
        problems = self._sensitive_problems(SENSITIVE_CUSTOMER_FIELDS)
        if not policy.may_assign_owner(self.user, self.default_owner):
            problems.append(_("You may not assign customers to %(user)s.")
                            % {"user": self.default_owner.username})
        return problems

    def prepare(self) -> None:
        self.owners: dict[str, User] = {}
        self.allowed_owner_ids = set(policy.assignable_owners(self.user).values_list(
            "pk", flat=True))
        for u in User.objects.filter(is_active=True):
            self.owners.setdefault(u.username.lower(), u)
            if u.get_full_name():
                self.owners.setdefault(u.get_full_name().lower(), u)
        # External ids are unique among the customers the user may see (Customer.external_id):
        # one held outside their scope is not consulted, and the row makes a new customer.
        self.external_ids: dict[str, int] = dict(
            restrict(Customer.objects.exclude(external_id=None), self.user, VIEW)
            .values_list("external_id", "id"))
        self.changeable: set[int] = set()
        self.by_phone: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        if self.update_existing:
            qs = restrict(Customer.objects.all(), self.user, CHANGE)
            self.owner_of: dict[int, int] = {}
            for pk, owner_id, phone, mobile, email in qs.values_list(
                    "id", "owner_id", "phone", "mobile", "email"):
                self.changeable.add(pk)
                self.owner_of[pk] = owner_id
                for number in (normalise.phone(phone), normalise.phone(mobile)):
                    if len(number) >= 5:
                        self.by_phone.setdefault(number, pk)
                if email:
                    self.by_email.setdefault(normalise.email(email), pk)
        self.may_reassign = policy.may_reassign_customers(self.user)

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        ok = True
        if "owner" in values:
            owner = self.owners.get(values["owner"].lower())
            if owner is None:
                report.add_error(line, self.header_of["owner"],
                                 _("Unknown owner “%(name)s”.") % {"name": values["owner"]})
                ok = False
            elif owner.pk not in self.allowed_owner_ids:
                report.add_error(line, self.header_of["owner"],
                                 _("You may not assign customers to %(name)s.")
                                 % {"name": owner.username})
                ok = False
            values["owner"] = owner
        external_id = values.get("external_id") or None
        target = None
        if external_id:
            if self.duplicate(("ext", external_id), line, self.header_of["external_id"], report):
                return None
            existing = self.external_ids.get(external_id)
            if existing is not None:
                if not self.update_existing:
                    report.add_error(line, self.header_of["external_id"],
                                     _("A customer with external id “%(id)s” already exists; "
                                       "choose “update existing” to update it.")
                                     % {"id": external_id})
                    return None
                if existing not in self.changeable:
                    report.add_error(line, self.header_of["external_id"],
                                     _("External id “%(id)s” belongs to a customer you may not "
                                       "change.") % {"id": external_id})
                    return None
                target = existing
        if target is None and self.update_existing:
            for name in ("mobile", "phone"):
                number = normalise.phone(values.get(name, ""))
                if len(number) >= 5 and number in self.by_phone:
                    target = self.by_phone[number]
                    break
            if target is None and values.get("email"):
                target = self.by_email.get(values["email"])
        if target is not None:
            if self.duplicate(("id", target), line, "", report):
                return None
            owner = values.get("owner")
            if (owner is not None and not self.may_reassign
                    and owner.pk != self.owner_of.get(target)):
                # Naming the owner a customer already has is no reassignment.
                report.add_error(line, self.header_of["owner"],
                                 _("Only a manager or an admin may reassign existing customers."))
                ok = False
        if not ok:
            return None
        values["_target"] = target
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        new = [r for r in rows if r["_target"] is None]
        updates = [r for r in rows if r["_target"] is not None]
        if new:
            self._create(batch, new)
        if updates:
            self._update(batch, updates)
        return len(new), len(updates)

    def _create(self, batch: ImportBatch, rows: list[dict]) -> None:
        objs = []
        for values in rows:
            values = dict(values)
            values.pop("_target")
            owner = values.pop("owner", None) or self.default_owner
            state = values.pop("lifecycle_state", None) or LifecycleState.POTENTIAL
            objs.append(Customer(owner=owner, lifecycle_state=state, created_by=self.user,
                                 updated_by=self.user, **values))
        objs = invariants.insert(objs, by=self.user, reason=_batch_reason(batch),
                                 source=TransitionSource.IMPORT)
        self._record_created(batch, objs)

    def _update(self, batch: ImportBatch, rows: list[dict]) -> None:
        current = Customer.objects.select_for_update().in_bulk([r["_target"] for r in rows])
        edits = [(current[values["_target"]],
                  {name: value for name, value in values.items()
                   if not name.startswith("_") and not (name == "external_id" and not value)})
                 for values in rows]
        teams = {c.pk: c.team_id for c, _values in edits}
        diffs = invariants.apply(edits, by=self.user, reason=_batch_reason(batch),
                                 source=TransitionSource.IMPORT)
        logs = []
        for (c, _values), diff in zip(edits, diffs, strict=True):
            if not diff:
                continue
            # What undoing the batch puts back.
            previous = {name: _json(old) for name, (old, _new) in diff.items()
                        if name != "owner"}
            if "owner" in diff:
                previous["owner"], previous["team"] = diff["owner"][0].pk, teams[c.pk]
            logs.append(ImportedUpdate(batch=batch, model="customers.customer", object_id=c.pk,
                                       previous=previous, version=c.version))
        ImportedUpdate.objects.bulk_create(logs)


def _batch_reason(batch: ImportBatch) -> str:
    return _("Imported (batch %(id)d)") % {"id": batch.pk}


class _ContactImporter(_Importer):
    kind = ImportKind.CONTACTS
    model = Contact
    history = True

    def cleaner(self, name: str):
        if name == "customer":
            return text
        return super().cleaner(name)

    def file_problems(self) -> list[str]:
        return self._sensitive_problems(SENSITIVE_CONTACT_FIELDS)

    def prepare(self) -> None:
        self._customer_refs(CHANGE)

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        customer_id = self._customer(line, values, report)
        if customer_id is None:
            return None
        if self.duplicate((customer_id, values["name"].casefold()), line,
                          self.header_of["name"], report):
            return None
        values["customer_id"] = customer_id
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        objs = bulk_create_with_history([Contact(**values) for values in rows], Contact,
                                        batch_size=1000, default_user=self.user,
                                        default_change_reason=_("Imported"))
        self._record_created(batch, objs)
        return len(objs), 0


class _TransactionImporter(_Importer):
    kind = ImportKind.TRANSACTIONS
    model = Transaction

    def cleaner(self, name: str):
        if name == "customer":
            return text
        if name == "kind":
            return cleaner_for(Transaction._meta.get_field("kind"), "transaction_kind")
        return super().cleaner(name)

    def prepare(self) -> None:
        self._customer_refs(CHANGE)
        self.pending: list[tuple[int, str, str, int]] = []
        # Into a database without numbered transactions (a first import), nothing can
        # repeat one: the lookups are skipped.
        self.known_numbers = Transaction.objects.exclude(number="").exists()

    def check(self, line: int, values: dict, report: ImportReport) -> tuple | None:
        customer_id = self._customer(line, values, report)
        if customer_id is None:
            return None
        kind = values.get("kind", TransactionKind.ORDER)
        number = values.get("number", "")
        if number:
            # One string per row, not a tuple: a million keys are held until the end.
            if self.duplicate(f"{customer_id}:{kind}:{number}", line,
                              self.header_of["number"], report):
                return None
            if self.known_numbers:
                self.pending.append((customer_id, kind, number, line))
                if len(self.pending) >= 5000:
                    self.finish_checks(report)
        amount, cost = values["amount"], values.get("cost", _ZERO)
        if kind == TransactionKind.RETURN:
            # A return is stored negative whatever sign it was written with, as on the card.
            amount, cost = -abs(amount), -abs(cost)
        # A tuple in the column order of the insert: a million dicts would cost seconds.
        return (customer_id, number, kind, values["date"], amount, cost,
                values.get("notes", ""))

    def finish_checks(self, report: ImportReport) -> None:
        """Refuse the rows whose order number the customer already has: a file imported
        twice, or months that overlap, would otherwise count the same sales twice."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        numbers = list({number for _c, _k, number, _l in pending})
        if connection.vendor == "postgresql":
            # One array parameter instead of thousands of placeholders to bind.
            with connection.cursor() as cursor:
                cursor.execute("SELECT customer_id, kind, number FROM customers_transaction "
                               "WHERE number <> '' AND number = ANY(%s)", [numbers])
                known = set(cursor.fetchall())
        else:
            known = set(Transaction.objects.exclude(number="").filter(
                number__in=numbers).values_list("customer_id", "kind", "number"))
        for customer_id, kind, number, line in pending:
            if (customer_id, kind, number) in known:
                report.add_error(line, self.header_of["number"], _(
                    "Already in kehu: this customer has a transaction of this kind numbered "
                    "“%(number)s” (was the file imported before?).") % {"number": number})

    def write(self, batch: ImportBatch, rows: list[tuple]) -> tuple[int, int]:
        now = timezone.now()
        ids = insert_rows(Transaction, _TRANSACTION_COLUMNS, rows,
                          extra=(self.user.pk, now, now))
        _record_ids(batch, Transaction, ids)
        return len(ids), 0


_ZERO = Decimal(0)
_TRANSACTION_COLUMNS = ("customer_id", "number", "kind", "date", "amount", "cost", "notes",
                        "created_by_id", "created_at", "updated_at")


def insert_rows(model: type[models.Model], columns: tuple[str, ...], rows: list[tuple],
                extra: tuple = ()) -> list[int]:
    """Insert plain rows (values in `columns` order, each followed by `extra`) and return
    their ids, in a fraction of the time bulk_create takes to build and compile a million
    model instances. Ids are allocated here so that the batch knows exactly which rows
    are its own: from the table's sequence on PostgreSQL (then COPY), and after the largest
    id ever used on SQLite, whose transaction holds the write lock throughout."""
    if not rows:
        return []
    table = model._meta.db_table
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in ("id", *columns))
    n = len(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [table, n])
            ids = [r[0] for r in cursor.fetchall()]
            # COPY's text format, built here in one go: a third of the time psycopg takes
            # to adapt each value of each row on its own.
            tail = "".join("\t" + _pg_text(v) for v in extra) + "\n"
            data = "".join([f"{pk}\t" + "\t".join(map(_pg_text, row)) + tail
                            for pk, row in zip(ids, rows, strict=True)])
            with cursor.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
                copy.write(data)
            return ids
        if connection.vendor != "sqlite":
            objs = model.objects.bulk_create(
                [model(**dict(zip(columns, (*row, *extra), strict=True))) for row in rows])
            return [o.pk for o in objs]
        cursor.execute(f"SELECT MAX(id) FROM {qn(table)}")  # noqa: S608 - our table name
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        ops = connection.ops
        extra = tuple(ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v
                      for v in extra)
        params = [(start + i, *(_sqlite_value(v) for v in row), *extra)
                  for i, row in enumerate(rows)]
        marks = ", ".join(["%s"] * (len(columns) + 1))
        cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})",  # noqa: S608
                           params)
        return list(range(start, start + n))


_PG_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _pg_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    cls = value.__class__
    if cls is str:
        return value.translate(_PG_ESCAPES) if value else value
    if cls is bool:
        return "t" if value else "f"
    if cls is datetime:
        return value.isoformat()
    return str(value)  # int, Decimal, date


def _sqlite_value(value: Any) -> Any:
    if value.__class__ is Decimal:
        return str(value)
    if value.__class__ is date:
        return value.isoformat()
    return value


def _record_ids(batch: ImportBatch, model: type[models.Model], ids: Iterable[int]) -> None:
    runs: list[ImportedRows] = []
    label = model._meta.label_lower
    for pk in sorted(ids):
        if runs and runs[-1].last_id == pk - 1:
            runs[-1].last_id = pk
        else:
            runs.append(ImportedRows(batch=batch, model=label, first_id=pk, last_id=pk))
    ImportedRows.objects.bulk_create(runs)


class _ProductImporter(_Importer):
    kind = ImportKind.PRODUCTS
    model = Product

    def prepare(self) -> None:
        self.existing = dict(Product.objects.values_list("code", "id"))

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        code = values["code"]
        if self.duplicate(code, line, self.header_of["code"], report):
            return None
        values["_target"] = self.existing.get(code)
        if values["_target"] is not None and not self.update_existing:
            report.add_error(line, self.header_of["code"],
                             _("A product with code “%(code)s” already exists; choose “update "
                               "existing” to update it.") % {"code": code})
            return None
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        new = [Product(**{k: v for k, v in r.items() if k != "_target"})
               for r in rows if r["_target"] is None]
        objs = Product.objects.bulk_create(new)
        self._record_created(batch, objs)
        updates = [r for r in rows if r["_target"] is not None]
        current = Product.objects.select_for_update().in_bulk([r["_target"] for r in updates])
        changed, fields, logs = [], {"updated_at"}, []
        now = timezone.now()
        for values in updates:
            p = current[values["_target"]]
            previous = {}
            for name, value in values.items():
                if not name.startswith("_") and getattr(p, name) != value:
                    previous[name] = _json(getattr(p, name))
                    setattr(p, name, value)
                    fields.add(name)
            if previous:
                p.updated_at = now
                changed.append(p)
                logs.append(ImportedUpdate(batch=batch, model="customers.product",
                                           object_id=p.pk, previous=previous))
        if changed:
            Product.objects.bulk_update(changed, sorted(fields))
        ImportedUpdate.objects.bulk_create(logs)
        return len(objs), len(changed)


class _ActivityImporter(_Importer):
    kind = ImportKind.ACTIVITIES
    model = Activity

    def cleaner(self, name: str):
        if name == "customer":
            return text
        if name == "kind":
            return cleaner_for(Activity._meta.get_field("kind"), "activity_kind")
        return super().cleaner(name)

    def prepare(self) -> None:
        self._customer_refs(CONTRIBUTE)

    def check(self, line: int, values: dict, report: ImportReport) -> dict | None:
        customer_id = self._customer(line, values, report)
        if customer_id is None:
            return None
        values["customer_id"] = customer_id
        values.setdefault("occurred_at", self.now)
        return values

    def write(self, batch: ImportBatch, rows: list[dict]) -> tuple[int, int]:
        objs = Activity.objects.bulk_create(
            [Activity(author_id=self.user.pk, **values) for values in rows])
        self._record_created(batch, objs)
        return len(objs), 0


IMPORTERS: dict[str, type[_Importer]] = {
    cls.kind: cls for cls in (_CustomerImporter, _ContactImporter, _TransactionImporter,
                              _ProductImporter, _ActivityImporter)
}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# Who may import what --------------------------------------------------------------------------
# The role decides the kinds; the rows are then limited to the customers the user may change
# (or add activities to) and the owners the user may assign, as on the card.
def role_problem(user: User, kind: str) -> str | None:
    if policy.may_import(user, kind):
        return None
    if kind == ImportKind.PRODUCTS:
        return _("Only managers and admins may import products.")
    return _("Your role (%(role)s) may not import %(kind)s.") % {
        "role": user.get_role_display(), "kind": ImportKind(kind).label}


# The service --------------------------------------------------------------------------------

def import_file(user: User, kind: str, path: str | os.PathLike[str], *,
                mapping_name: str | None = None, mapping: Mapping[str, str] | None = None,
                owner: User | None = None, update_existing: bool = False,
                dry_run: bool = False, chunk_size: int = CHUNK_SIZE,
                progress: Progress | None = None, ip: str | None = None,
                via: str = "web", file_name: str | None = None) -> ImportReport:
    """Check every row of the file and, if all are good and this is not a dry run, write
    them as one batch. Returns the report; `report.ok` tells whether the file was taken.

    `mapping` corrects the automatic column matching ({header: field}, "" to ignore a
    column), on top of the saved mapping `mapping_name`."""
    if kind not in IMPORTERS:
        raise ServiceError(_("Unknown kind of import: %(kind)s.") % {"kind": kind})
    if not user.is_active:
        raise NotPermitted(_("Inactive users may not import."))
    path = Path(path)
    report = ImportReport(kind=kind, file_name=file_name or path.name, dry_run=dry_run)
    refused = role_problem(user, kind)
    if refused:
        report.add_error(0, "", refused)
        _record_refusal(user, report, ip, via, dry_run)
        return report
    try:
        table = open_table(path)
        has_rows = next(iter(table.rows()), None) is not None
    except FileRefused as exc:
        report.add_error(0, "", exc.message)
        return report
    if not has_rows:
        report.add_error(table.header_line, "", _("The file has a header row but no rows "
                                                  "under it; there is nothing to import."))
        _record_refusal(user, report, ip, via, dry_run)
        return report
    saved = None
    if mapping_name:
        try:
            saved = load_mapping(kind, mapping_name)
        except LookupError as exc:
            raise ServiceError(str(exc), field="mapping") from None
    columns = resolve(kind, table.headers, saved, mapping)
    report.columns = dict(columns.columns)
    report.ignored_columns = list(columns.ignored)
    importer_cls = IMPORTERS[kind]
    importer = importer_cls(user, columns, owner=owner, update_existing=update_existing)
    for problem in [*columns.problems, *importer.file_problems()]:
        report.add_error(table.header_line, "", problem)
    if not report.ok:
        _record_refusal(user, report, ip, via, dry_run)
        return report

    importer.prepare()
    pause = float(os.environ.get(PAUSE_ENV) or 0)
    try:
        if connection.vendor == "postgresql" and not dry_run:
            _check_and_write(user, importer, table, report, chunk_size=chunk_size,
                             progress=progress, pause=pause, ip=ip, via=via)
            return report
        # The checked rows wait in a temporary file between the passes: memory stays at one
        # chunk whatever the file's size, and the file is parsed only once.
        with tempfile.TemporaryFile(prefix="kehu-import-") as spool:
            updates = _check(importer, table, report, spool, chunk_size, progress)
            if not report.ok or dry_run:
                if report.ok:
                    # What the write would do (updates that change nothing count too).
                    report.created, report.updated = report.rows - updates, updates
                _record_refusal(user, report, ip, via, dry_run)
                return report
            spool.seek(0)
            _write(user, importer, spool, report, progress=progress, pause=pause, ip=ip,
                   via=via)
    except IntegrityError as exc:
        # Something the rows refer to was removed between checking and writing.
        report.created = report.updated = 0
        report.batch_id = None
        report.add_error(0, "", _("The database changed while the file was imported "
                                  "(%(error)s); nothing was imported. Run the import "
                                  "again.") % {"error": exc})
        _record_refusal(user, report, ip, via, dry_run)
    return report


class _Refused(Exception):
    """Raised inside the import's transaction to roll back what it wrote."""


def _check_and_write(user: User, importer: _Importer, table: TableFile,
                     report: ImportReport, *, chunk_size: int, progress: Progress | None,
                     pause: float, ip: str | None, via: str) -> None:
    """One pass, for PostgreSQL: each checked chunk is written at once, inside the one
    transaction, and the whole transaction is rolled back if any row turns out bad. Nothing
    waits in a temporary file, and other sessions are not held up meanwhile, as PostgreSQL
    locks only the rows written. (SQLite has a single write lock for the whole database, so
    there the rows are all checked before the lock is taken.)

    The chunks are written by a second thread with its own connection, so that the database
    inserts, updates its indexes and checks the foreign keys of one chunk while this thread
    reads and checks the next; called inside a transaction of its caller, the import joins it
    and writes from this thread."""
    writer = (_Writer if connection.in_atomic_block else _ThreadWriter)(user, importer, report,
                                                                          ip, via)
    chunk: list[Any] = []
    count = 0
    try:
        for line, row in table.rows():
            count += 1
            values = importer.clean(line, row, report)
            if values is not None and report.error_count == 0:
                chunk.append(values)
                if len(chunk) >= chunk_size:
                    writer.put(chunk)
                    chunk = []
                    if pause:
                        time.sleep(pause)
            if progress and count % 1000 == 0:
                progress("import", count, None)
        report.rows = count
        importer.finish_checks(report)
        if chunk and report.error_count == 0:
            writer.put(chunk)
    except BaseException:
        writer.close(commit=False)
        raise
    committed = writer.close(commit=report.error_count == 0)
    if progress:
        progress("import", count, count)
    if pause:
        time.sleep(pause)
    if not committed:
        report.created = report.updated = 0
        report.batch_id = None
        _record_refusal(user, report, ip, via, False)


class _Writer:
    """Writes chunks in the calling thread, inside the caller's transaction (a savepoint)."""

    def __init__(self, user: User, importer: _Importer, report: ImportReport, ip: str | None,
                 via: str):
        self.user, self.importer, self.report, self.ip, self.via = (user, importer, report,
                                                                     ip, via)
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.open = True
        _constraints("IMMEDIATE")
        self.batch = ImportBatch.objects.create(kind=report.kind, file_name=report.file_name,
                                                created_by=user)

    def put(self, chunk: list[Any]) -> None:
        _write_chunk(self.importer, self.batch, chunk, self.report)

    def close(self, commit: bool) -> bool:
        if not self.open:
            return False
        self.open = False
        if commit:
            try:
                _finish_batch(self.user, self.batch, self.report, self.ip, self.via)
                _constraints("DEFERRED")
            except BaseException as exc:
                self.atomic.__exit__(type(exc), exc, exc.__traceback__)
                raise
            self.atomic.__exit__(None, None, None)
            return True
        refused = _Refused()
        self.atomic.__exit__(_Refused, refused, None)  # rolls the savepoint back
        _constraints("DEFERRED")
        return False


def _constraints(mode: str) -> None:
    # Foreign keys checked as each chunk is written, not all at commit: the checks of one
    # chunk then overlap with the reading of the next instead of piling up at the end.
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS ALL {mode}")


_DONE = object()


class _ThreadWriter:
    """Writes chunks from a second thread, in a transaction of its own connection."""

    def __init__(self, user: User, importer: _Importer, report: ImportReport, ip: str | None,
                 via: str):
        self.user, self.importer, self.report, self.ip, self.via = (user, importer, report,
                                                                     ip, via)
        self.queue: queue.Queue = queue.Queue(maxsize=2)  # memory: a few chunks at most
        self.error: BaseException | None = None
        self.committed = False
        self.thread = threading.Thread(target=self._run, name="kehu-import-writer",
                                       daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with transaction.atomic():
                _constraints("IMMEDIATE")
                batch = ImportBatch.objects.create(kind=self.report.kind,
                                                   file_name=self.report.file_name,
                                                   created_by=self.user)
                while True:
                    item = self.queue.get()
                    if item is _DONE:
                        _finish_batch(self.user, batch, self.report, self.ip, self.via)
                        break
                    if item is None:
                        raise _Refused
                    _write_chunk(self.importer, batch, item, self.report)
            self.committed = True
        except _Refused:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self.error = exc
        finally:
            connection.close()

    def put(self, chunk: list[Any]) -> None:
        while True:
            if self.error is not None or not self.thread.is_alive():
                self._raise()
            try:
                self.queue.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self, commit: bool) -> bool:
        while self.thread.is_alive():
            try:
                self.queue.put(_DONE if commit else None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()
        if commit and self.error is not None:
            self._raise()
        return self.committed

    def _raise(self) -> None:
        error = self.error or RuntimeError("the import's writer stopped")
        self.error = None
        raise error


def _write_chunk(importer: _Importer, batch: ImportBatch, chunk: list[Any],
                 report: ImportReport) -> None:
    created, updated = importer.write(batch, chunk)
    report.created += created
    report.updated += updated


def _finish_batch(user: User, batch: ImportBatch, report: ImportReport, ip: str | None,
                  via: str) -> None:
    batch.rows = report.created + report.updated
    batch.created, batch.updated = report.created, report.updated
    batch.finished_at = timezone.now()
    batch.save(update_fields=["rows", "created", "updated", "finished_at"])
    record(user, "import", ip=ip, via=via, detail={
        "kind": report.kind, "file": report.file_name, "batch": batch.pk,
        "rows": batch.rows, "created": report.created, "updated": report.updated})
    report.batch_id = batch.pk


def _check(importer: _Importer, table: TableFile, report: ImportReport, spool: IO[bytes],
           chunk_size: int, progress: Progress | None) -> int:
    count = updates = 0
    chunk: list[Any] = []
    for line, row in table.rows():
        count += 1
        values = importer.clean(line, row, report)
        if values is not None:
            if importer.updates(values):
                updates += 1
            if report.error_count == 0:
                chunk.append(values)
                if len(chunk) >= chunk_size:
                    pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
                    chunk = []
        if progress and count % 1000 == 0:
            progress("check", count, None)
    importer.finish_checks(report)
    if chunk and report.error_count == 0:
        pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
    report.rows = count
    if progress:
        progress("check", count, count)
    return updates


def _chunks(spool: IO[bytes]) -> Iterator[list[Any]]:
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 - our own temporary file
        except EOFError:
            return


def _write(user: User, importer: _Importer, spool: IO[bytes], report: ImportReport, *,
           progress: Progress | None, pause: float, ip: str | None, via: str) -> None:
    with transaction.atomic():
        batch = ImportBatch.objects.create(kind=report.kind, file_name=report.file_name,
                                           created_by=user)
        done = 0
        for chunk in _chunks(spool):
            _write_chunk(importer, batch, chunk, report)
            done += len(chunk)
            if progress:
                progress("write", done, report.rows)
            if pause:
                time.sleep(pause)
        _finish_batch(user, batch, report, ip, via)


def _record_refusal(user: User, report: ImportReport, ip: str | None, via: str,
                    dry_run: bool) -> None:
    if dry_run:
        return
    record(user, "import.refused", ip=ip, via=via, detail={
        "kind": report.kind, "file": report.file_name, "rows": report.rows,
        "errors": report.error_count})


@transaction.atomic
def save_mapping(user: User, kind: str, name: str, mapping: Mapping[str, str]) -> ImportMapping:
    """Save (or replace) a named mapping {header: field}; "" ignores a column."""
    if kind not in FIELDS:
        raise ServiceError(_("Unknown kind of import: %(kind)s.") % {"kind": kind})
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Give the mapping a name of at most 100 characters.")})
    for target in mapping.values():
        if target and target not in FIELDS[kind]:
            raise ValidationError({"mapping": _("“%(field)s” is not a field of this import.")
                                   % {"field": target}})
    obj, _created = ImportMapping.objects.update_or_create(
        kind=kind, name=name, defaults={"mapping": dict(mapping), "created_by": user})
    record(user, "import.mapping", detail={"kind": kind, "name": name})
    return obj


# Undo ---------------------------------------------------------------------------------------

def _runs(batch: ImportBatch, label: str) -> Iterator[tuple[int, int]]:
    for first, last in batch.row_runs.filter(model=label).values_list("first_id", "last_id"):
        # Ranges of at most 5000 ids keep each statement's IN/BETWEEN work bounded.
        for start in range(first, last + 1, 5000):
            yield start, min(last, start + 4999)


@transaction.atomic
def undo_batch(user: User, batch_id: int, *, ip: str | None = None,
               via: str = "web") -> ImportBatch:
    """Remove what a batch created and put back what it updated — refused if any of its
    rows has been changed since, so that nobody's later work is lost."""
    try:
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
    except ImportBatch.DoesNotExist:
        raise ServiceError(_("There is no import batch %(id)s.") % {"id": batch_id}) from None
    if not policy.may_undo_import(user, batch.created_by_id):
        raise NotPermitted(_("Only the user who ran an import, or an admin, may undo it."))
    if batch.status == BatchStatus.UNDONE:
        raise ServiceError(_("Import batch %(id)d was already undone on %(when)s.")
                           % {"id": batch.pk, "when": timezone.localtime(batch.undone_at)
                              .strftime("%Y-%m-%d %H:%M")})
    model = MODELS[batch.kind]
    label = model._meta.label_lower
    finished = batch.finished_at
    moved_on = Q(updated_at__gt=finished)
    if hasattr(model, "version"):
        moved_on |= Q(version__gt=1)
    n_changed = 0
    for first, last in _runs(batch, label):
        n_changed += model.objects.filter(moved_on, pk__range=(first, last)).count()
        if batch.kind == ImportKind.CUSTOMERS:
            # Contacts, transactions or activities added to an imported customer since.
            for dependent in (Contact, Transaction, Activity):
                n_changed += dependent.objects.filter(
                    customer_id__gte=first, customer_id__lte=last,
                ).values("customer_id").distinct().count()
        if batch.kind == ImportKind.PRODUCTS:
            n_changed += TransactionLine.objects.filter(
                product_id__gte=first, product_id__lte=last,
            ).values("product_id").distinct().count()
    updates = list(batch.updates.all())
    if updates:
        current = model.objects.in_bulk([u.object_id for u in updates])
        for u in updates:
            obj = current.get(u.object_id)
            if obj is None:
                continue
            n_changed += (obj.version != u.version) if u.version is not None else (
                obj.updated_at > finished)
    if n_changed:
        raise ServiceError(_("%(n)d records of import batch %(id)d have been changed or added "
                             "to since it ran, so undoing it would lose that work. Change or "
                             "delete them by hand instead.") % {"n": n_changed, "id": batch.pk})
    removed = 0
    for first, last in _runs(batch, label):
        chunk = model.objects.filter(pk__range=(first, last))
        if batch.kind == ImportKind.CUSTOMERS:
            removed += invariants.remove(chunk, by=user,
                                         reason=_("Import %(id)d undone") % {"id": batch.pk})
        elif batch.kind == ImportKind.CONTACTS:
            # One by one, so that history records who removed each record and why.
            for obj in chunk:
                obj._history_user = user
                obj._change_reason = _("Import %(id)d undone") % {"id": batch.pk}
                obj.delete()
                removed += 1
        elif model is Transaction and all(r.related_model is TransactionLine
                                          for r in model._meta.related_objects):
            # Line items are the only rows hanging off a transaction: delete them, then the
            # transactions in one statement, instead of loading a million instances.
            TransactionLine.objects.filter(transaction_id__gte=first,
                                           transaction_id__lte=last).delete()
            removed += chunk._raw_delete(chunk.db)
        else:
            removed += chunk.delete()[1].get(model._meta.label, 0)
    restored = _restore(user, batch, model, updates)
    batch.status = BatchStatus.UNDONE
    batch.undone_at = timezone.now()
    batch.undone_by = user
    batch.save(update_fields=["status", "undone_at", "undone_by"])
    record(user, "import.undo", ip=ip, via=via, detail={
        "kind": batch.kind, "file": batch.file_name, "batch": batch.pk, "removed": removed,
        "restored": restored})
    return batch


def _restore(user: User, batch: ImportBatch, model: type[models.Model],
             updates: list[ImportedUpdate]) -> int:
    if not updates:
        return 0
    current = model.objects.select_for_update().in_bulk([u.object_id for u in updates])
    reason = _("Import %(id)d undone") % {"id": batch.pk}
    found = [(current[u.object_id], u.previous) for u in updates if u.object_id in current]
    if model is Customer:
        owners = User.objects.in_bulk({p["owner"] for _c, p in found if "owner" in p})
        edits = []
        for obj, previous in found:
            values = {}
            for name, value in previous.items():
                if name == "team":
                    continue  # follows the owner
                f = model._meta.get_field(name)
                values[name] = owners[value] if name == "owner" else (
                    None if value is None else f.to_python(value))
            edits.append((obj, values))
        invariants.apply(edits, by=user, reason=reason, source=TransitionSource.IMPORT,
                         even_if_unchanged=True)
        return len(edits)
    fields: set[str] = set()
    now = timezone.now()
    for obj, previous in found:
        for name, value in previous.items():
            f = model._meta.get_field(name)
            setattr(obj, f.attname, None if value is None else f.to_python(value))
            fields.add(f.name)
        if hasattr(obj, "version"):
            obj.version += 1
            fields.add("version")
        obj.updated_at = now
        fields.add("updated_at")
    model.objects.bulk_update([obj for obj, _p in found], sorted(fields))
    return len(found)


def acting_user(username: str | None) -> User:
    """The user a command acts as: the one named, or the only admin if there is exactly one."""
    if username:
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise ServiceError(_("There is no active user “%(name)s”.") % {"name": username},
                               field="as")
        return user
    admins = list(User.objects.filter(Q(is_superuser=True) | Q(role=Role.ADMIN),
                                      is_active=True)[:2])
    if len(admins) != 1:
        raise ServiceError(_("Say which user you act as with --as USER."), field="as")
    return admins[0]


# Preview --------------------------------------------------------------------------------------

PREVIEW_ROWS = 20


@dataclass
class PreviewCell:
    header: str
    value: Any
    error: str = ""


@dataclass
class PreviewRow:
    line: int
    cells: list[PreviewCell]
    errors: list[str] = field(default_factory=list)  # problems of the row as a whole

    @property
    def ok(self) -> bool:
        return not self.errors and not any(c.error for c in self.cells)


@dataclass
class Preview:
    headers: list[str]
    columns: dict[str, str]  # header → field, for the columns that are used
    ignored: list[str]
    problems: list[str]  # problems of the file as a whole
    rows: list[PreviewRow]
    errors: list[RowError]  # every problem found in the previewed rows, in order

    @property
    def ok(self) -> bool:
        return not self.problems and not self.errors


def preview_file(user: User, kind: str, path: str | os.PathLike[str], *,
                 mapping: Mapping[str, str] | None = None, owner: User | None = None,
                 update_existing: bool = False, limit: int = PREVIEW_ROWS) -> Preview:
    """Check the first `limit` rows exactly as the import will, writing nothing, and say
    which cell of which row has which problem. FileRefused if the file cannot be read."""
    if kind not in IMPORTERS:
        raise ServiceError(_("Unknown kind of import: %(kind)s.") % {"kind": kind})
    table = open_table(path)
    columns = resolve(kind, table.headers, None, mapping)
    importer = IMPORTERS[kind](user, columns, owner=owner, update_existing=update_existing)
    problems = [p for p in (role_problem(user, kind),) if p]
    problems += [*columns.problems, *importer.file_problems()]
    result = Preview(headers=list(table.headers), columns=dict(columns.columns),
                     ignored=list(columns.ignored), problems=problems, rows=[], errors=[])
    if problems:
        return result
    importer.prepare()
    report = ImportReport(kind=kind, file_name=Path(path).name, dry_run=True)
    for line, row in table.rows():
        if len(result.rows) >= limit:
            break
        before = len(report.errors)
        importer.clean(line, row, report)
        found = report.errors[before:]
        by_column = {}
        for error in found:
            by_column.setdefault(error.column, []).append(error.message)
        cells = [PreviewCell(h, row.get(h, ""), " ".join(by_column.pop(h, [])))
                 for h in table.headers]
        extra = [m for ms in by_column.values() for m in ms]
        result.rows.append(PreviewRow(line=line, cells=cells, errors=extra))
        result.errors.extend(found)
    return result


def report_as_dict(report: ImportReport) -> dict[str, Any]:
    """The report as a background job keeps it (Job.result)."""
    return {
        "ok": report.ok, "kind": report.kind, "file": report.file_name,
        "dry_run": report.dry_run, "rows": report.rows, "created": report.created,
        "updated": report.updated, "batch_id": report.batch_id,
        "columns": report.columns, "ignored_columns": report.ignored_columns,
        "error_count": report.error_count,
        "errors": [[e.line, e.column, e.message] for e in report.errors],
    }
