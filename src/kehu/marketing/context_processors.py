"""What the Marketing entry of the top navigation and its sub-navigation offer the user.
Each part of marketing adds its key; the top entry shows when any of them is on and leads
to the first page the user may open."""

from __future__ import annotations

from django.urls import reverse

from kehu.core import policy


def nav_marketing(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    entries = {"campaigns": policy.may_run_campaigns(user)}
    pages = {"campaigns": "marketing:campaigns"}
    first = next((pages[k] for k, on in entries.items() if on), None)
    return {"nav_marketing": {**entries, "url": reverse(first) if first else ""}}
