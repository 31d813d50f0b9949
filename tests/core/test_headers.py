"""Headers every answer needs: a Content-Security-Policy without inline script on every HTML
page, and Cache-Control: no-store on everything that carries customer data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import kehu

pytestmark = pytest.mark.django_db

TEMPLATES = Path(kehu.__file__).parent


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def _assert_strict(response) -> None:
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_every_html_page_carries_the_policy(client, users, customers):
    _assert_strict(client.get(reverse("login")))
    _assert_strict(client.get("/no/such/page/"))
    signed_in = _signed_in(users["admin"])
    for url in [reverse("customers:list"), reverse("customers:card", args=[customers["east"].pk]),
                reverse("analytics:dashboard"), reverse("audit:events"), "/api/v1/docs"]:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)


def test_the_lockout_page_carries_the_policy(client, users):
    for _ in range(6):
        response = client.post(reverse("login"), {"username": "x", "password": "wrong"})
    assert response.status_code == 429
    _assert_strict(response)


def test_no_template_has_inline_script_or_style():
    """What the policy would refuse: a <script> without src, an on…= handler, a <style>
    block, a style= attribute, a javascript: link."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|<style[\s>]"
                        r"|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = [f"{path.relative_to(TEMPLATES)}: {m.group(0)}"
             for path in sorted(TEMPLATES.rglob("templates/**/*.html"))
             for m in inline.finditer(path.read_text(encoding="utf-8"))]
    assert not found, found


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_customer_pages_are_not_stored(users, customers):
    client = _signed_in(users["manager1"])
    east = customers["east"]
    for url in [reverse("customers:card", args=[east.pk]),
                reverse("customers:card", args=[east.pk]) + "?tab=history",
                reverse("customers:edit", args=[east.pk]),
                reverse("customers:list"), reverse("customers:list") + "?q=shanghai"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url
        assert "private" in response["Cache-Control"], url
    # Even a customer out of reach: the 404 under /customers/ is not stored either.
    response = client.get(reverse("customers:card", args=[customers["north"].pk]))
    assert response.status_code == 404 and _no_store(response)


def test_downloads_are_not_stored(users, customers):
    client = _signed_in(users["admin"])
    export = client.get(reverse("dataio:export_download"), {"what": "customers",
                                                           "format": "csv"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    assert _no_store(export)
    users["admin"].privacy_officer = True
    users["admin"].save()
    privacy = _signed_in(users["admin"]).get(
        reverse("dataio:privacy_customer_export", args=[customers["east"].pk]))
    assert privacy.status_code == 200 and _no_store(privacy)


def test_every_api_answer_is_not_stored(users, customers):
    from kehu.accounts.tokens import create_token

    _token, raw = create_token(users["sales1"], "tests")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    for url, status in [("/api/v1/customers", 200),
                        (f"/api/v1/customers/{customers['east'].pk}", 200),
                        (f"/api/v1/customers/{customers['north'].pk}", 404),
                        ("/api/v1/no-such-thing", 404), ("/api/v1/openapi.json", 200)]:
        response = client.get(url)
        assert response.status_code == status, url
        assert _no_store(response), url
    assert _no_store(Client().get("/api/v1/customers"))  # 401 too

