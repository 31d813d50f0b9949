"""What marketing adds to the value dashboard: the share of new customers who came by
referral, and for each value segment a download of its customers carrying the consent
columns (the customer export, through the export-column hook)."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from kehu.analytics.models import CustomerValue, Referral, ValueRefresh
from kehu.customers.services import create_customer, create_transaction
from kehu.marketing.consent.services import set_consent

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_the_share_of_new_customers_by_referral(users, customers):
    admin, owner = users["admin"], users["sales1"]
    today = timezone.localdate()
    for i, referred in enumerate([True, True, False]):
        c = create_customer(admin, {"name": f"新客{i}"}, owner=owner)
        create_transaction(admin, c, date=today, amount="10")
        if referred:
            Referral.objects.create(referrer=customers["east"], referred=c, referred_on=today)
    client = Client()
    client.force_login(users["marketing1"])
    page = client.get("/value/").content.decode()
    assert 'data-figure="referral-share"' in page
    assert "<strong>67%</strong>" in page and "(2 of 3)" in page
    assert 'href="/marketing/referrals/"' in page
    # Over the reader's scope: the north team's manager has no new customer to count.
    north = Client()
    north.force_login(users["manager2"])
    assert 'data-figure="referral-share"' not in north.get("/value/").content.decode()


def test_a_segments_customers_download_with_their_consent(users, customers):
    admin = users["admin"]
    run = ValueRefresh.objects.create(as_of=timezone.localdate(), status="done")
    east, east_b = customers["east"], customers["east_b"]
    CustomerValue.objects.create(customer=east, refresh=run, segment="invest")
    CustomerValue.objects.create(customer=east_b, refresh=run, segment="develop")
    set_consent(admin, east, channel="email", status="given", source="form")
    set_consent(admin, east, channel="personalisation", status="refused", source="phone")
    client = Client()
    client.force_login(users["manager1"])
    page = client.get("/value/").content.decode()
    link = "/data/export/download/?what=customers&amp;format=csv&amp;segment=invest"
    assert link in page
    answer = client.get(link.replace("&amp;", "&"))
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    assert "consent: E-mail" in header and "consent: Personalisation" in header
    assert [r[header.index("ID")] for r in rows[1:]] == [str(east.pk)]
    got = dict(zip(header, rows[1], strict=True))
    assert (got["consent: E-mail"], got["consent: Personalisation"]) == ("Given", "Refused")
