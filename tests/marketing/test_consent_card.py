"""The card's Consent tab: each person's answer per channel, recording an answer, the
history and the e-mails sent."""

from __future__ import annotations

import pytest
from django.test import Client

from kehu.marketing.consent.models import Consent
from kehu.marketing.consent.sending import send_marketing_email
from kehu.marketing.consent.services import set_consent

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_refusal_recorded_on_the_card_shows_and_stops_sends(users, customers, children):
    east, contact = customers["east"], children["east"]["contact"]
    set_consent(users["admin"], east, channel="email", status="given", source="form")
    client = _client(users["service1"])
    page = client.get(f"/customers/{east.pk}/?tab=consent")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Consent to marketing" in html and contact.name in html
    answer = client.post(f"/customers/{east.pk}/consent/", {
        "person": "", "channel": "email", "status": "refused", "source": "phone",
        "note": "Asked on the phone to get no more mail"}, follow=True)
    assert "Answer saved." in answer.content.decode()
    assert Consent.objects.get(customer=east, contact=None, channel="email").status == \
        "refused"
    send_marketing_email(users["marketing1"], east, subject="Autumn fair", body="x",
                         origin="mailing")
    html = client.get(f"/customers/{east.pk}/?tab=consent").content.decode()
    assert "Asked on the phone to get no more mail" in html
    assert "Autumn fair" in html and "Not sent: opted out" in html


def test_bad_input_on_the_card_is_refused_with_a_message(users, customers, children):
    east = customers["east"]
    client = _client(users["sales1"])
    answer = client.post(f"/customers/{east.pk}/consent/", {
        "person": str(children["north"]["contact"].pk), "channel": "email",
        "status": "given", "source": "form"}, follow=True)
    assert "The answer was not saved" in answer.content.decode()
    answer = client.post(f"/customers/{east.pk}/consent/", {
        "person": "", "channel": "email", "status": "given", "source": "form",
        "given_on": "2999-01-01"}, follow=True)
    assert "cannot be in the future" in answer.content.decode()
    assert not Consent.objects.exists()
    # An analyst may read the card but not record consent; another team's user not even see.
    assert _client(users["analyst1"]).post(f"/customers/{east.pk}/consent/", {
        "person": "", "channel": "email", "status": "given", "source": "form"}
    ).status_code == 404
    assert _client(users["sales2"]).get(f"/customers/{east.pk}/?tab=consent"
                                        ).status_code == 404
