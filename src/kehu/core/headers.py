"""Headers that keep kehu's answers safe in the browser and out of caches.

Content-Security-Policy: every HTML answer carries settings.SECURE_CSP. No page has inline
script or inline style, so the policy needs neither 'unsafe-inline' nor nonces: a customer
name that slipped into a page as markup still cannot run as script.

Why a small middleware and not django-csp: the policy is one fixed header with no nonces and
no per-view variants, which is a dozen lines; django-csp's strength (nonces, per-view
decorators, report-only pairs) would go unused. The setting has the shape of Django 6.0's
built-in SECURE_CSP (directive: list of sources), so that moving to Django's own
ContentSecurityPolicyMiddleware later means swapping this class for it.

Cache-Control: no-store on everything that carries customer data — every page a signed-in
user gets (they all show or lead to customers), every API answer and every download — so
that no browser cache, shared proxy or Back button on a shared computer keeps a copy.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

CSP_HEADER = "Content-Security-Policy"


def policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = policy(settings.SECURE_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.get("Content-Type", "").startswith("text/html")
                and CSP_HEADER not in response):
            response[CSP_HEADER] = self.header
        return response


def is_private(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether an answer may hold customer data."""
    if request.path.startswith(("/api/", "/customers/")):
        return True
    if response.get("Content-Disposition", "").startswith("attachment"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_private(request, response):
            patch_cache_control(response, private=True, no_store=True)
        return response
