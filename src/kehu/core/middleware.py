"""A database too busy to take a write answers 503 with a message, not a server error.

SQLite has one writer at a time. Writers queue for the connection's timeout; a request still
waiting when it runs out (for example behind a value refresh of a very large base, which
rewrites every score in one transaction) is told the database is busy and that nothing it
sent was saved, so the user can send it again.
"""

from __future__ import annotations

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 30


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def busy_response(request: HttpRequest) -> HttpResponse:
    message = _("The database is busy with other work, such as a value refresh; nothing you "
                "sent was saved. Please send it again in a minute.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "code": "busy"}, status=503)
    else:
        response = render(request, "busy.html", {"message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class BusyDatabaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        return busy_response(request) if is_busy(exception) else None


class ApiMethodNotAllowedMiddleware:
    """An API call with a method the endpoint lacks gets JSON like every other API error,
    with the methods it has (the framework answers in plain text)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code == 405 and request.path.startswith("/api/")
                and not response.get("Content-Type", "").startswith("application/json")):
            allowed = response.get("Allow", "")
            json = JsonResponse({"detail": _("Method %(method)s is not allowed here; use one "
                                             "of: %(allowed)s.")
                                 % {"method": request.method, "allowed": allowed}},
                                status=405)
            if allowed:
                json["Allow"] = allowed
            return json
        return response
