"""What the navigation needs to know about the user's data rights, without a query."""

from __future__ import annotations

from kehu.core import policy


def data_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_may_import": bool(policy.importable_kinds(user)),
        "nav_may_export": policy.may_export(user),
        "nav_privacy": user.is_privacy_officer,
    }
