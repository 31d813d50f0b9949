"""The signed link of a survey invitation.

The token is the invitation's id and its random nonce, signed with the site's secret key
(django.core.signing, a salt of its own). A link someone changed fails the signature; a link
built for another invitation id lacks that invitation's nonce; the database says whether it
was answered already and when it expires, so that a link works once and only in its time.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "kehu.service.surveys.invitation"


class BadLink(Exception):
    """The token was not made by kehu, or was changed on the way."""


def token_for(invitation_id: int, nonce: str) -> str:
    return signing.Signer(salt=SALT).sign_object([invitation_id, nonce])


def read_token(token: str) -> tuple[int, str]:
    """(invitation id, nonce) from a token; BadLink when it is not one of ours."""
    if not token or len(token) > 200:
        raise BadLink
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise BadLink from None
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
            or not isinstance(value[1], str)):
        raise BadLink
    return value[0], value[1]


def path_for(invitation) -> str:
    return reverse("service:survey_answer", kwargs={"survey_token": token_for(invitation.pk,
                                                                         invitation.nonce)})


def url_for(invitation) -> str:
    """The full link to send to the customer."""
    return settings.KEHU_SITE_URL.rstrip("/") + path_for(invitation)
