"""Reads of users that a command or page needs before it knows who is acting."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import ServiceError
from kehu.core.roles import Role


def acting_user(username: str | None) -> User:
    """The user a command acts as (its --as USER): the one named, or the only admin if there
    is exactly one. ServiceError (field "as") for an unknown or inactive user, or when the
    command must be told whom it acts as."""
    if username:
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise ServiceError(_("There is no active user “%(name)s”.") % {"name": username},
                               field="as")
        return user
    admins = list(User.objects.filter(Q(is_superuser=True) | Q(role=Role.ADMIN),
                                      is_active=True)[:2])
    if len(admins) != 1:
        raise ServiceError(_("Say which user you act as with --as USER."), field="as")
    return admins[0]
