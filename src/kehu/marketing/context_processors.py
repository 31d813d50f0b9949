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
    entries = {"campaigns": policy.may_run_campaigns(user),
               "offers": policy.may_manage_offers(user)}
    # Referrals are read by everyone who reads the value dashboard (which shows their
    # share); in Marketing's menu for those who work in marketing.
    entries["referrals"] = any(entries.values()) and policy.may_see_referral_share(user)
    pages = {"campaigns": "marketing:campaigns", "offers": "marketing:offers",
             "referrals": "marketing:referrals"}
    first = next((pages[k] for k, on in entries.items() if on), None)
    return {"nav_marketing": {**entries, "url": reverse(first) if first else ""}}
