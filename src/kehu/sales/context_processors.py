"""What the sales pages' sub-navigation offers the user."""

from __future__ import annotations

from kehu.core import policy


def nav_sales(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_sales": {"forecast": policy.may_see_forecast(user),
                          "stages": policy.may_change_settings(user)}}
