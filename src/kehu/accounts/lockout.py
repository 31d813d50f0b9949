"""Sign-in throttling that a stranger cannot turn against an administrator.

django-axes counts failed sign-ins by address and by user name, but compares one number,
the larger count, with one limit: five wrong guesses at "admin" from anywhere would lock the
administrator out everywhere. This handler gives each its own limit:

- an address is locked after KEHU_SIGNIN_ADDRESS_LIMIT failures from it (any names);
- a user name is locked after KEHU_SIGNIN_NAME_LIMIT failures for it (from any addresses).

While an address is locked, its attempts are refused without being counted
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off), so one address adds at most the address
limit to a name's count: locking a name takes failures from several addresses. A lock ends
AXES_COOLOFF_TIME after the last counted failure, or when an administrator unlocks it (the
Sign-in locks page, `kehu unlock`). A successful sign-in clears only that name's failures
from that address, so it cannot wipe out what a stranger did from elsewhere.

Each request notes what the handler found (`request.kehu_signin`), for the audit log's
sign-in events (kehu.accounts.signin) and the lockout page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


@dataclass
class SignInState:
    """What the throttle found for one sign-in attempt."""

    address_failures: int = 0
    name_failures: int = 0
    refused: bool = False  # the attempt came while already locked, and was not counted

    @property
    def address_locked(self) -> bool:
        return self.address_failures >= settings.KEHU_SIGNIN_ADDRESS_LIMIT

    @property
    def name_locked(self) -> bool:
        return self.name_failures >= settings.KEHU_SIGNIN_NAME_LIMIT


def state(request: HttpRequest) -> SignInState:
    found = getattr(request, "kehu_signin", None)
    if found is None:
        found = request.kehu_signin = SignInState()
    return found


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        # AXES_LOCKOUT_PARAMETERS is ["ip_address", "username"]: one query set each.
        by_address, by_name = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials))
        found = state(request)
        found.address_failures, found.name_failures = by_address, by_name
        # Axes compares one number with AXES_FAILURE_LIMIT, the address limit: a name at its
        # own limit is reported as at least that.
        if found.name_locked:
            return max(by_address, settings.AXES_FAILURE_LIMIT)
        return by_address

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None:
            # Set by axes's backend when it refused the attempt for a lock already in place.
            state(request).refused = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """After a successful sign-in: that name's failures from that address only."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address).delete()
        return count


def lockout_response(request: HttpRequest, original_response=None,
                     credentials: dict | None = None) -> HttpResponse:
    """The page for a refused or locking attempt: which lock, and for how long."""
    found = state(request)
    return render(request, "registration/locked_out.html", {
        "address_locked": found.address_locked,
        "name_locked": found.name_locked,
        "address_limit": settings.KEHU_SIGNIN_ADDRESS_LIMIT,
        "name_limit": settings.KEHU_SIGNIN_NAME_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }, status=429)


# Reading the locks in place (admins' page, `kehu unlock --list`) ----------------------------

@dataclass
class Lock:
    key: str  # the address or the user name
    failures: int
    others: int  # how many names tried from the address, or addresses that tried the name
    last: datetime


def _recent() -> QuerySet[AccessAttempt]:
    return AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)


def locked_addresses() -> list[Lock]:
    rows = (_recent().exclude(ip_address=None).values("ip_address")
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"),
                      others=Count("username", distinct=True))
            .filter(failures__gte=settings.KEHU_SIGNIN_ADDRESS_LIMIT).order_by("-last"))
    return [Lock(r["ip_address"], r["failures"], r["others"], r["last"]) for r in rows]


def locked_names() -> list[Lock]:
    rows = (_recent().exclude(username=None).values("username")
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"),
                      others=Count("ip_address", distinct=True))
            .filter(failures__gte=settings.KEHU_SIGNIN_NAME_LIMIT).order_by("-last"))
    return [Lock(r["username"], r["failures"], r["others"], r["last"]) for r in rows]
