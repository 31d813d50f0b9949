"""The signed unsubscribe link every marketing e-mail carries.

The token names the customer (and the contact person, when the e-mail went to one) and is
signed with the site's secret key, so it cannot be forged or pointed at someone else; it
needs no login and does not expire (an old e-mail's link must still work). It holds ids
only and the page it opens shows none of them."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "kehu.marketing.unsubscribe"
_signer = signing.Signer(salt=SALT)


def unsubscribe_token(customer_id: int, contact_id: int | None = None) -> str:
    payload = [int(customer_id)] if contact_id is None else [int(customer_id), int(contact_id)]
    return _signer.sign_object(payload, compress=False)


def read_unsubscribe_token(token: str) -> tuple[int, int | None] | None:
    """(customer id, contact id or None), or None when the token is not one of ours."""
    try:
        payload = _signer.unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if (not isinstance(payload, list) or not 1 <= len(payload) <= 2
            or not all(isinstance(x, int) and x > 0 for x in payload)):
        return None
    return payload[0], (payload[1] if len(payload) == 2 else None)


def unsubscribe_url(customer_id: int, contact_id: int | None = None) -> str:
    path = reverse("marketing:unsubscribe", args=[unsubscribe_token(customer_id, contact_id)])
    return settings.KEHU_SITE_URL.rstrip("/") + path
