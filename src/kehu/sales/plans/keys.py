"""Which customers are key accounts. The value engine (kehu.analytics, a higher app) knows
who is most valuable: it registers a check here from its AppConfig.ready(), so that sales
asks without importing it. A manager may also make any customer of their team a key
account by starting its plan (kehu.core.policy.may_designate_key_accounts)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

# A check takes a queryset of customers and answers {customer id: why it is key} for
# those of them it finds key, at most `limit` of them when a limit is given.
KeyCheck = Callable[[QuerySet, int | None], dict[int, str]]

_checks: list[KeyCheck] = []


def register(check: KeyCheck) -> None:
    if check not in _checks:
        _checks.append(check)


def key_reasons(customers: QuerySet, limit: int | None = None) -> dict[int, str]:
    """Why each of `customers` that is a key account is one; the others are absent."""
    out: dict[int, str] = {}
    for check in _checks:
        for pk, reason in check(customers, limit).items():
            out.setdefault(pk, reason)
    return out
