"""What the service pages' sub-navigation offers the user."""

from __future__ import annotations

from kehu.core import policy


def nav_service(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_service": {"dashboard": policy.may_see_service_dashboard(user),
                            "surveys": policy.may_see_survey_results(user)}}
