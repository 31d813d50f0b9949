"""The progress of a background job, as an htmx partial that polls itself."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kehu.core import jobs
from kehu.core.models import Job


@login_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the user who started a job (or an admin) sees it; anybody else gets 404."""
    try:
        job = jobs.get(pk)
    except (Job.DoesNotExist, OverflowError):
        raise Http404 from None
    if job.user_id != request.user.pk and not request.user.is_kehu_admin:
        raise Http404
    refresh = request.GET.get("refresh") == "1"
    response = render(request, "core/_job.html", {"job": job, "refresh": refresh})
    if refresh and job.finished:
        # The page around the bar shows the job's result: let htmx load it whole.
        response["HX-Refresh"] = "true"
    return response
