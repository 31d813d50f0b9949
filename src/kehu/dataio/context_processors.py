"""What the navigation needs to know about the user's data rights, without a query."""

from __future__ import annotations

from kehu.core.permissions import EXPORT, has_action
from kehu.dataio.services import importable_kinds


def data_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_may_import": bool(importable_kinds(user)),
        "nav_may_export": has_action(user, EXPORT),
        "nav_privacy": user.is_privacy_officer,
    }
