"""Facts about the HTTP request that the audit log records."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy strips it.
    return request.META.get("REMOTE_ADDR") or None
