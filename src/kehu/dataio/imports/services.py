"""Importing files all or nothing, saving column mappings, and undoing an import.

An import reads the file once and checks every row, collecting every problem (line, column,
reason); a file with any problem is refused whole and nothing is written. Otherwise the
checked rows are written in chunks with bulk inserts, inside one database transaction
together with the batch that records them (imports.writing). Killing the process at any
point leaves the database as it was, and running the import again succeeds. What changes
between the check and the write (a customer deleted meanwhile, an external id taken) makes
the database refuse the transaction, and the import reports it and writes nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.customers import invariants
from kehu.customers.models import (
    Contact,
    Customer,
    Transaction,
    TransactionLine,
    TransitionSource,
)
from kehu.dataio.imports.importers import IMPORTERS
from kehu.dataio.imports.mapping import FIELDS, MODELS, load_mapping, resolve
from kehu.dataio.imports.readers import FileRefused, open_table
from kehu.dataio.imports.report import ImportReport, Progress
from kehu.dataio.imports.writing import (
    CHUNK_SIZE,
    PAUSE_ENV,
    check_and_write,
    check_to_spool,
    write_spooled,
)
from kehu.dataio.models import (
    BatchStatus,
    ImportBatch,
    ImportedUpdate,
    ImportKind,
    ImportMapping,
)
from kehu.sales.credit.services import resettle_receivables
from kehu.sales.models import Activity

# Who may import what ------------------------------------------------------------------------

def role_problem(user: User, kind: str) -> str | None:
    """Why the user's role may not import this kind of file, or None if it may. The role
    decides the kinds; the rows are then limited to the customers the user may change (or
    add activities to) and the owners the user may assign, as on the card."""
    if policy.may_import(user, kind):
        return None
    if kind == ImportKind.PRODUCTS:
        return _("Only managers and admins may import products.")
    if kind in policy.SENSITIVE_IMPORTS:
        return _("Receivables and payments are in the sensitive tier: only those who see it "
                 "and may change customers may import them.")
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
            if not check_and_write(user, importer, table, report, chunk_size=chunk_size,
                                   progress=progress, pause=pause, ip=ip, via=via):
                _record_refusal(user, report, ip, via, dry_run)
            return report
        # The checked rows wait in a temporary file between the passes: memory stays at one
        # chunk whatever the file's size, and the file is parsed only once.
        with tempfile.TemporaryFile(prefix="kehu-import-") as spool:
            updates = check_to_spool(importer, table, report, spool, chunk_size, progress)
            if not report.ok or dry_run:
                if report.ok:
                    # What the write would do (updates that change nothing count too).
                    report.created, report.updated = report.rows - updates, updates
                _record_refusal(user, report, ip, via, dry_run)
                return report
            spool.seek(0)
            write_spooled(user, importer, spool, report, progress=progress, pause=pause,
                          ip=ip, via=via)
    except IntegrityError as exc:
        # Something the rows refer to was removed between checking and writing.
        report.created = report.updated = 0
        report.batch_id = None
        report.add_error(0, "", _("The database changed while the file was imported "
                                  "(%(error)s); nothing was imported. Run the import "
                                  "again.") % {"error": exc})
        _record_refusal(user, report, ip, via, dry_run)
    return report


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
    paid_into: set[int] = set()
    for first, last in _runs(batch, label):
        chunk = model.objects.filter(pk__range=(first, last))
        if batch.kind == ImportKind.PAYMENTS:
            paid_into |= set(chunk.values_list("receivable_id", flat=True))
        if batch.kind == ImportKind.CUSTOMERS:
            # Locked first, in id order, as every deletion of a customer is (see
            # customers.services.delete_customer).
            removed += invariants.remove(chunk.order_by("pk").select_for_update(), by=user,
                                         reason=_("Import %(id)d undone") % {"id": batch.pk})
        elif batch.kind == ImportKind.CONTACTS:
            # One by one, so that history records who removed each record and why.
            for obj in chunk:
                obj._history_user = user
                obj._change_reason = _("Import %(id)d undone") % {"id": batch.pk}
                obj.delete()
                removed += 1
        elif model is Transaction and all(_flat(r) for r in model._meta.related_objects):
            # Line items (and credit flags) go with a transaction, a receivable forgets it:
            # done by range, then the transactions in one statement, instead of loading a
            # million instances.
            for rel in model._meta.related_objects:
                rows = rel.related_model._base_manager.filter(**{
                    f"{rel.field.attname}__gte": first, f"{rel.field.attname}__lte": last})
                if rel.on_delete is models.SET_NULL:
                    rows.update(**{rel.field.attname: None})
                else:
                    rows._raw_delete(rows.db)
            removed += chunk._raw_delete(chunk.db)
        else:
            removed += chunk.delete()[1].get(model._meta.label, 0)
    if paid_into:
        resettle_receivables(user, paid_into)
    restored = _restore(user, batch, model, updates)
    batch.status = BatchStatus.UNDONE
    batch.undone_at = timezone.now()
    batch.undone_by = user
    batch.save(update_fields=["status", "undone_at", "undone_by"])
    record(user, "import.undo", ip=ip, via=via, detail={
        "kind": batch.kind, "file": batch.file_name, "batch": batch.pk, "removed": removed,
        "restored": restored})
    return batch


def _flat(rel) -> bool:
    """A relation to a transaction that undoing an import can settle by id range: rows that
    go with it (nothing hangs off them) or forget it."""
    return (rel.on_delete is models.SET_NULL
            or (rel.on_delete is models.CASCADE and not rel.related_model._meta.related_objects))


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

