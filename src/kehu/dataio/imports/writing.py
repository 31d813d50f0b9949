"""Writing an import all or nothing: the checked rows are written in chunks inside one
database transaction together with the batch that records them, or not at all.

On SQLite, whose single write lock would keep everybody else waiting, every row is checked
before the transaction starts, and the checked rows wait in a temporary file (a spool)
between the passes: memory stays at one chunk whatever the file's size, and the file is
parsed only once. On PostgreSQL, which locks only the rows written, rows are checked and
written in one pass, and the transaction is rolled back if any row turns out bad. Killing
the process at any point leaves the database as it was.
"""

from __future__ import annotations

import pickle
import queue
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.dataio.imports.importers import Importer
from kehu.dataio.imports.readers import TableFile
from kehu.dataio.imports.report import ImportReport, Progress
from kehu.dataio.models import ImportBatch

CHUNK_SIZE = 5000
# A pause after each written chunk, in seconds: lets a test kill an import half-way.
PAUSE_ENV = "KEHU_IMPORT_PAUSE_AFTER_CHUNK"


def check_to_spool(importer: Importer, table: TableFile, report: ImportReport,
                   spool: IO[bytes], chunk_size: int, progress: Progress | None) -> int:
    """Check every row of `table`, reporting each problem; while there is none, the good
    rows go to `spool` in chunks. Returns how many rows update existing records."""
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


def write_spooled(user: User, importer: Importer, spool: IO[bytes], report: ImportReport, *,
                  progress: Progress | None, pause: float, ip: str | None, via: str) -> None:
    """Write the chunks of `spool` as one batch, in one transaction."""
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
        importer.after_write(batch)
        _finish_batch(user, batch, report, ip, via)


class _Refused(Exception):
    """Raised inside the import's transaction to roll back what it wrote."""


def check_and_write(user: User, importer: Importer, table: TableFile,
                    report: ImportReport, *, chunk_size: int, progress: Progress | None,
                    pause: float, ip: str | None, via: str) -> bool:
    """One pass, for PostgreSQL: each checked chunk is written at once, inside the one
    transaction, and the whole transaction is rolled back if any row turns out bad. Nothing
    waits in a temporary file, and other sessions are not held up meanwhile, as PostgreSQL
    locks only the rows written. (SQLite has a single write lock for the whole database, so
    there the rows are all checked before the lock is taken.)

    The chunks are written by a second thread with its own connection, so that the database
    inserts, updates its indexes and checks the foreign keys of one chunk while this thread
    reads and checks the next; called inside a transaction of its caller, the import joins it
    and writes from this thread. Returns whether the batch was committed."""
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
    return committed


class _Writer:
    """Writes chunks in the calling thread, inside the caller's transaction (a savepoint)."""

    def __init__(self, user: User, importer: Importer, report: ImportReport, ip: str | None,
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
                self.importer.after_write(self.batch)
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

    def __init__(self, user: User, importer: Importer, report: ImportReport, ip: str | None,
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
                        self.importer.after_write(batch)
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


def _write_chunk(importer: Importer, batch: ImportBatch, chunk: list[Any],
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

