"""Web pages of the import wizard (upload → columns → preview → import → result) and the
import batches. Thin: parse input, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import jobs, policy
from kehu.core.errors import ServiceError
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.dataio.imports import selectors, wizard
from kehu.dataio.imports.forms import ColumnsForm, UploadForm
from kehu.dataio.imports.mapping import field_label, load_mapping, resolve
from kehu.dataio.imports.preview import preview_file
from kehu.dataio.imports.readers import FileRefused
from kehu.dataio.imports.services import save_mapping, undo_batch
from kehu.dataio.models import ImportBatch, ImportMapping, ImportUpload

ERRORS_SHOWN = 1000


def _upload(request: HttpRequest, upload_id) -> ImportUpload:
    upload = wizard.uploads(request.user).filter(pk=upload_id).first()
    if upload is None:
        raise Http404
    return upload


def _gone(request: HttpRequest, exc: FileRefused) -> HttpResponse:
    messages.error(request, _("The uploaded file cannot be read any more (%(reason)s); "
                              "upload it again.") % {"reason": exc.message})
    return redirect("dataio:import")


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UploadForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            upload = wizard.store_upload(user, data["kind"], data["file"],
                                         update_existing=data["update_existing"],
                                         owner=data["owner"])
        except ServiceError as e:
            apply_service_error(form, e)
        else:
            return redirect("dataio:import_columns", upload.pk)
    return render(request, "dataio/import_start.html", {
        "form": form, "nav": "import", "may_import": bool(policy.importable_kinds(user)),
        "batches": selectors.batches(user)[:10],
    }, status=400 if request.method == "POST" else 200)


@login_required
def import_columns(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _upload(request, upload_id)
    if upload.batch_id:
        return redirect("dataio:import_status", upload.pk)
    try:
        headers, samples = wizard.sample_rows(upload)
    except FileRefused as exc:
        return _gone(request, exc)
    saved = ImportMapping.objects.filter(kind=upload.kind)
    chosen = request.GET.get("mapping", "")
    try:
        base = load_mapping(upload.kind, chosen) if chosen else None
    except LookupError as exc:
        messages.error(request, str(exc))
        base = None
    if base is not None:
        mapping = resolve(upload.kind, headers, base).columns
    else:
        mapping = resolve(upload.kind, headers, None, upload.mapping or None).columns
    form = ColumnsForm(request.POST or None, kind=upload.kind, headers=headers,
                       mapping=mapping, samples=samples)
    if request.method == "POST" and form.is_valid():
        chosen_mapping = form.mapping()
        problems = resolve(upload.kind, headers, None, chosen_mapping).problems
        for problem in problems:
            form.add_error(None, problem)
        name = form.cleaned_data["save_as"].strip()
        if not problems and name:
            try:
                save_mapping(request.user, upload.kind, name, chosen_mapping)
            except (ValidationError, ServiceError) as e:
                apply_service_error(form, e)
            else:
                messages.success(request, _("Mapping “%(name)s” saved.") % {"name": name})
        if form.is_valid():
            upload.mapping = chosen_mapping
            upload.save(update_fields=["mapping"])
            return redirect("dataio:import_preview", upload.pk)
    return render(request, "dataio/import_columns.html", {
        "upload": upload, "form": form, "saved": saved, "chosen": chosen, "nav": "import",
    }, status=400 if request.method == "POST" else 200)


@login_required
def import_preview(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _upload(request, upload_id)
    if upload.batch_id:
        return redirect("dataio:import_status", upload.pk)
    try:
        preview = preview_file(request.user, upload.kind, wizard.upload_path(upload),
                               mapping=upload.mapping or None, owner=upload.owner,
                               update_existing=upload.update_existing)
    except FileRefused as exc:
        return _gone(request, exc)
    headers = [{"name": h, "label": field_label(upload.kind, preview.columns[h])
                if h in preview.columns else None} for h in preview.headers]
    return render(request, "dataio/import_preview.html", {
        "upload": upload, "preview": preview, "headers": headers, "nav": "import",
    })


@login_required
@require_POST
def import_run(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _upload(request, upload_id)
    try:
        wizard.start_import(request.user, upload, ip=client_ip(request))
    except ServiceError as e:
        messages.error(request, e.message)
    return redirect("dataio:import_status", upload.pk)


@login_required
def import_status(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _upload(request, upload_id)
    if upload.job is None:
        return redirect("dataio:import_preview", upload.pk)
    job = jobs.overlay(upload.job)
    result = job.result or {}
    errors = result.get("errors", [])
    return render(request, "dataio/import_status.html", {
        "upload": upload, "job": job, "result": result, "nav": "import",
        "errors": errors[:ERRORS_SHOWN], "errors_hidden": result.get("error_count", 0)
        - min(len(errors), ERRORS_SHOWN),
        "batch": upload.batch,
        "may_undo": upload.batch is not None and policy.may_undo_import(
            request.user, upload.batch.created_by_id),
    })


# Batches ------------------------------------------------------------------------------------

@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.batches(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "dataio/batch_list.html", {"page": page, "nav": "import"})


def _batch(request: HttpRequest, batch_id: int) -> ImportBatch:
    batch = selectors.batches(request.user).filter(pk=batch_id).first()
    if batch is None:
        raise Http404
    return batch


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    return render(request, "dataio/batch_detail.html", {
        "batch": batch, "may_undo": policy.may_undo_import(request.user, batch.created_by_id),
        "nav": "import"})


@login_required
@require_POST
def batch_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        undo_batch(request.user, batch.pk, ip=client_ip(request), via="web")
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Import batch %(id)d undone: what it created is removed "
                                    "and what it changed is put back.") % {"id": batch.pk})
    return redirect("dataio:batch", batch.pk)
