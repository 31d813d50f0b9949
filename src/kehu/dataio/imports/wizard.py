"""The import wizard's server side: an uploaded file waits privately between the steps
(upload → columns → preview → import), and the import runs as a background job.

The file is kept under KEHU_UPLOAD_DIR with a random name, readable by the server only,
until it has been imported; files nobody finished importing go after a day.
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core import jobs
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.models import Job, JobStatus
from kehu.dataio.imports.readers import FileRefused, open_table
from kehu.dataio.imports.report import report_as_dict
from kehu.dataio.imports.services import import_file, role_problem
from kehu.dataio.models import ImportKind, ImportUpload

SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
KEEP_UNFINISHED = timedelta(days=1)
JOB_KIND = "dataio.import"


def upload_dir() -> Path:
    path = Path(settings.KEHU_UPLOAD_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_path(upload: ImportUpload) -> Path:
    return upload_dir() / upload.stored_name


def uploads(user: User) -> QuerySet[ImportUpload]:
    """A user's own uploads: nobody else's file is reachable through the wizard."""
    return ImportUpload.objects.filter(user=user).select_related("job", "batch", "owner")


def store_upload(user: User, kind: str, uploaded: UploadedFile, *,
                 update_existing: bool = False, owner: User | None = None) -> ImportUpload:
    """Keep an uploaded file for the wizard; ServiceError (naming the field) if it is not a
    file kehu can read, NotPermitted if the user may not import this kind."""
    if kind not in ImportKind.values:
        raise ServiceError(_("Choose what the file holds."), field="kind")
    refused = role_problem(user, kind)
    if refused:
        raise NotPermitted(refused, field="kind")
    name = os.path.basename(uploaded.name or "")[:255] or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ServiceError(_("“%(name)s” is not a CSV or XLSX file; save the sheet as CSV or "
                             "XLSX (Excel 2007 or later) first.") % {"name": name}, field="file")
    limit = settings.KEHU_UPLOAD_MAX_MB * 1024 * 1024
    if uploaded.size is not None and uploaded.size > limit:
        raise ServiceError(_("The file is larger than %(mb)d MB; import it with the command "
                             "line instead (kehu import).") % {"mb": settings.KEHU_UPLOAD_MAX_MB},
                           field="file")
    purge_unfinished()
    upload = ImportUpload(id=uuid.uuid4(), user=user, kind=kind, file_name=name,
                          update_existing=update_existing, owner=owner)
    upload.stored_name = f"{upload.id.hex}{suffix}"
    path = upload_path(upload)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
            size += len(chunk)
    try:
        open_table(path)
    except FileRefused as exc:
        path.unlink(missing_ok=True)
        raise ServiceError(exc.message, field="file") from None
    upload.size = size
    upload.save()
    return upload


def discard(upload: ImportUpload) -> None:
    upload_path(upload).unlink(missing_ok=True)
    upload.delete()


def purge_unfinished() -> int:
    """Forget uploads left in the wizard for more than a day (not those importing now)."""
    old = ImportUpload.objects.filter(created_at__lt=timezone.now() - KEEP_UNFINISHED).exclude(
        job__status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
    count = 0
    for upload in old:
        discard(upload)
        count += 1
    return count


def sample_rows(upload: ImportUpload, n: int = 3) -> tuple[list[str], list[dict[str, Any]]]:
    """The headers and the first rows, to show next to the column mapping."""
    table = open_table(upload_path(upload))
    return table.headers, [row for _line, row in itertools.islice(table.rows(), n)]


def start_import(user: User, upload: ImportUpload, *, ip: str | None = None) -> Job:
    """Import the uploaded file in the background; the same job again if it is running."""
    if upload.user_id != user.pk:
        raise NotPermitted(_("This file was uploaded by somebody else."))
    if upload.batch_id is not None:
        raise ServiceError(_("This file has already been imported as batch %(id)d.")
                           % {"id": upload.batch_id})
    if upload.job_id and upload.job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return upload.job
    job = jobs.start(JOB_KIND, _run, args=(str(upload.pk), ip), user=user,
                     title=_("Import of %(file)s") % {"file": upload.file_name})
    upload.job = job
    upload.save(update_fields=["job"])
    return job


def _run(progress: jobs.Progress, upload_id: str, ip: str | None) -> dict[str, Any]:
    upload = ImportUpload.objects.select_related("user", "owner").get(pk=upload_id)
    labels = {"check": _("Checking every row"), "write": _("Writing"),
              "import": _("Checking and writing")}

    def report_progress(phase: str, done: int, total: int | None) -> None:
        progress.report(done, total=total, message=labels.get(phase, phase))

    report = import_file(upload.user, upload.kind, upload_path(upload), mapping=upload.mapping,
                         owner=upload.owner, update_existing=upload.update_existing,
                         progress=report_progress, ip=ip, via="web",
                         file_name=upload.file_name)
    if report.ok and report.batch_id:
        upload.batch_id = report.batch_id
        upload.save(update_fields=["batch"])
        # Imported: the batch has what it needs, and the file is not kept beyond its use.
        upload_path(upload).unlink(missing_ok=True)
    return report_as_dict(report)
