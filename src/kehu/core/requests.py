"""Facts about the HTTP request that the audit log and the sign-in throttle record."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of whoever sent the request.

    REMOTE_ADDR, unless it is a proxy kehu trusts (settings.KEHU_TRUSTED_PROXIES): then the
    nearest address in X-Forwarded-For that is not itself a trusted proxy. Anything further
    left in that header was written by the client and proves nothing. Behind a proxy that
    is not listed, every request seems to come from the proxy, and five failed sign-ins by
    anyone would lock sign-in from it for everybody.
    """
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    trusted = settings.KEHU_TRUSTED_PROXIES
    if address not in trusted:
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if hop not in trusted:
            return hop if _valid(hop) else address
    return address
