"""Creating and checking personal API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import ApiToken, User

TOKEN_PREFIX = "kehu_"  # noqa: S105 - a public marker, not a secret


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Return the stored token and the raw secret, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name or "token", prefix=raw[:12],
                                    key_hash=_hash(raw))
    from kehu.audit.services import record

    record(user, "token.create", obj=token, detail={"name": token.name})
    return token, raw


def authenticate_token(raw: str) -> User | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=_hash(raw), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Writing on every call would serialise API reads on SQLite; a minute's precision is enough.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def revoke_token(user: User, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    from kehu.audit.services import record

    record(user, "token.revoke", obj=token, detail={"name": token.name})


# Why a user's tokens end without anyone revoking them one by one: the audit action of each.
REVOKED_FOR = {"password": "token.revoke_password", "inactive": "token.revoke_inactive"}


@transaction.atomic
def revoke_user_tokens(user: User, reason: str, *, actor: User | None = None,
                       ip: str | None = None, via: str = "") -> int:
    """Revoke every live token of `user` because their password changed or they were
    deactivated (see User.save). Revoked tokens never work again, whatever happens to the
    user later: reactivating a user gives them no old token back."""
    from kehu.audit.services import record

    live = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True))
    if not live:
        return 0
    ApiToken.objects.filter(pk__in=[t.pk for t in live]).update(revoked_at=timezone.now())
    for token in live:
        record(actor, REVOKED_FOR[reason], obj=token, ip=ip, via=via,
               detail={"name": token.name, "user": user.username})
    return len(live)
