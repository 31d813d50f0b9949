"""The progress of a background job, as an htmx partial that polls itself; the answer to a
server error."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from kehu.core import jobs
from kehu.core.logs import current_request_id
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


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """A 500: the request id for the user to quote, and nothing else. Rendered without the
    site's context processors, which may be what failed; the API answers JSON."""
    request_id = getattr(request, "request_id", None) or current_request_id()
    message = _("Something went wrong on our side; the error has been logged.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "server_error",
                             "request_id": request_id}, status=500)
    body = loader.get_template("500.html").render({"request_id": request_id})
    return HttpResponse(body, status=500)
