"""Sign-ins, sign-outs, failures and locks in the audit log.

Django's auth signals and axes's `user_locked_out` are the one place every sign-in passes,
whether through kehu's page or the admin site's. A failure records the name that was tried
and the address, never the password. API calls are not sign-ins: a token is checked on every
call and is not audited per call (creating and revoking tokens is).
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from kehu.accounts.lockout import state
from kehu.audit.services import record
from kehu.core.requests import client_ip

NAME_LENGTH = 150  # a user name is at most this long; anything longer is cut for the log


def _via(request: HttpRequest | None) -> str:
    return "admin" if request is not None and request.path.startswith("/admin/") else "web"


def _tried(name) -> dict:
    name = str(name or "")[:NAME_LENGTH]
    return {"username": name,
            "known": bool(name) and get_user_model().objects.filter(username=name).exists()}


@receiver(user_logged_in, dispatch_uid="kehu-audit-signin")
def audit_sign_in(sender, request, user, **kwargs) -> None:
    record(user, "signin", ip=client_ip(request), via=_via(request))


@receiver(user_logged_out, dispatch_uid="kehu-audit-signout")
def audit_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(user, "signout", ip=client_ip(request), via=_via(request))


@receiver(user_login_failed, dispatch_uid="kehu-audit-signin-failed")
def audit_sign_in_failure(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in `credentials`; only the name is taken.
    refused = request is not None and state(request).refused
    record(None, "signin.refused" if refused else "signin.failed",
           detail=_tried(credentials.get("username")), ip=client_ip(request),
           via=_via(request))


@receiver(user_locked_out, dispatch_uid="kehu-audit-lockout")
def audit_lockout(sender, request, username, ip_address, **kwargs) -> None:
    """Once, when a lock begins; an attempt refused by a lock in place is signin.refused."""
    found = state(request)
    if found.refused:
        return
    name = str(username or "")[:NAME_LENGTH]
    if found.address_locked:
        record(None, "signin.lock_address", ip=ip_address, via=_via(request),
               detail={"username": name, "failures": found.address_failures})
    if found.name_locked:
        record(None, "signin.lock_name", ip=ip_address, via=_via(request),
               detail={"username": name, "failures": found.name_failures})
