"""Writes to users and teams, and to the sign-in locks."""

from __future__ import annotations

from axes.utils import reset as reset_sign_in_failures
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import Team, User
from kehu.accounts.signals import user_moved_team
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.logs import current_request
from kehu.core.requests import client_ip


@transaction.atomic
def move_user_to_team(actor: User | None, user: User, team: Team | None, *,
                      ip: str | None = None, via: str = "web") -> User:
    """Put a user in another team; what they own moves with them (a customer's team is
    always its owner's team: kehu.customers keeps that in step through user_moved_team)."""
    old_team_id = user.team_id
    user.team = team
    user.save(update_fields=["team"])
    followed = sum(count or 0 for _receiver, count in
                   user_moved_team.send(sender=User, user=user, actor=actor))
    record(actor, "user.team", obj=user, ip=ip, via=via, detail={
        "from": old_team_id, "to": user.team_id, "customers_moved": followed})
    return user


def _acting() -> tuple[User | None, str | None, str]:
    """Who changes a user where no caller says (a model save from the admin site, a
    management command): the signed-in user of the request being handled, if any."""
    request = current_request()
    if request is None:
        return None, None, ""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    via = ("admin" if request.path.startswith("/admin/")
           else "api" if request.path.startswith("/api/") else "web")
    return actor, client_ip(request), via


@transaction.atomic
def credentials_changed(user: User, *, new_password: bool) -> None:
    """Called by User.save when the password changed or the user is inactive: audit the
    password change and revoke the user's live API tokens."""
    from kehu.accounts.tokens import revoke_user_tokens

    actor, ip, via = _acting()
    if new_password:
        record(actor, "user.password", obj=user, ip=ip, via=via,
               detail={"user": user.username})
    revoke_user_tokens(user, "password" if new_password else "inactive",
                       actor=actor, ip=ip, via=via)


@transaction.atomic
def unlock_sign_in(actor: User | None, *, username: str | None = None,
                   address: str | None = None, ip: str | None = None,
                   via: str = "web") -> int:
    """Lift a sign-in lock: forget the failed sign-ins of a user name (from every address)
    or of an address (for every name). Administrators only; `actor` None is the command
    line. Returns how many records of failures were removed."""
    if actor is not None and not policy.may_unlock_sign_in(actor):
        raise NotPermitted(_("Only administrators can unlock sign-in."))
    if bool(username) == bool(address):
        raise ServiceError(_("Name either a user name or an address to unlock."))
    if username:
        removed = reset_sign_in_failures(username=username)
        record(actor, "signin.unlock_name", ip=ip, via=via,
               detail={"username": username, "records": removed})
    else:
        removed = reset_sign_in_failures(ip=address)
        record(actor, "signin.unlock_address", ip=ip, via=via,
               detail={"address": address, "records": removed})
    return removed
