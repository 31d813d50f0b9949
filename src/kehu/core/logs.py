"""Logs that leave a trace of every error: one JSON object per line on stderr, each carrying
the id of the request it happened in.

Every request gets an id (RequestIdMiddleware): a well-formed X-Request-ID sent by a proxy
kehu trusts (settings.KEHU_TRUSTED_PROXIES), otherwise a new one. The id goes back in the
answer's X-Request-ID header, on the 500 page (so a user can quote it) and in every log
record written while the request is handled, through a context variable that the logging
filter reads. A background job's thread starts with an empty context: its records carry no
request id rather than a wrong one.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")

_current: ContextVar[HttpRequest | None] = ContextVar("kehu_request", default=None)


def current_request() -> HttpRequest | None:
    """The request being handled in this context, if any."""
    return _current.get()


def current_request_id() -> str | None:
    return getattr(_current.get(), "request_id", None)


def _request_id(request: HttpRequest) -> str:
    given = request.headers.get(HEADER, "")
    if (given and _WELL_FORMED.fullmatch(given)
            and request.META.get("REMOTE_ADDR") in settings.KEHU_TRUSTED_PROXIES):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain, so that everything after it, errors included, logs with the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = _request_id(request)
        token = _current.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, if the request already knows it: a log call must not load
    the session or query the database (it may be logging that the database failed)."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty:
        return None
    return getattr(wrapped, "pk", None)


class RequestContextFilter(logging.Filter):
    """Puts the current request's id, method, path and user id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _current.get()
        if request is None:
            request = getattr(record, "request", None)
            if not isinstance(request, HttpRequest):
                request = None
        record.request_id = getattr(request, "request_id", None)
        record.method = request.method if request is not None else None
        record.path = request.path if request is not None else None
        record.user_id = _user_id(request) if request is not None else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's id, method,
    path and user id, the answer's status, and the exception with its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "user_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
