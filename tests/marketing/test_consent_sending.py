"""Consent is enforced at the moment of sending, every e-mail carries a working signed
unsubscribe link, and every send is recorded and audited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError
from kehu.marketing.consent import selectors, services
from kehu.marketing.consent.links import read_unsubscribe_token, unsubscribe_token
from kehu.marketing.consent.models import Consent, ConsentChange, SendStatus
from kehu.marketing.consent.sending import (
    Email,
    send_marketing_email,
    send_marketing_emails,
)

pytestmark = pytest.mark.django_db


def _give(user, customer, channel="email", status="given", contact=None, source="form"):
    return services.set_consent(user, customer, channel=channel, status=status,
                                source=source, contact=contact)


def _link(message) -> str:
    return re.search(r"https?://\S+/unsubscribe/\S+/", message.body).group(0)


def test_no_consent_no_email_and_the_send_is_recorded(users, customers):
    marketing, east = users["marketing1"], customers["east"]
    send = send_marketing_email(marketing, east, subject="Spring fair", body="Hello",
                                origin="mailing")
    assert send.status == SendStatus.NO_CONSENT
    assert mail.outbox == []
    _give(marketing, east)
    send = send_marketing_email(marketing, east, subject="Spring fair", body="Hello",
                                origin="mailing")
    assert send.status == SendStatus.SENT
    assert [m.to for m in mail.outbox] == [["info@huadong.example"]]
    assert [s.status for s in selectors.sends_of(marketing, east)] == ["sent", "no_consent"]
    events = AuditEvent.objects.filter(action="marketing.send", customer_id=east.pk)
    assert events.count() == 2


def test_consent_is_checked_at_send_time_not_when_the_list_was_built(users, customers,
                                                                       children):
    marketing, east = users["marketing1"], customers["east"]
    contact = children["east"]["contact"]
    contact.email = "li@huadong.example"
    contact.save()
    _give(marketing, east)
    _give(marketing, east, contact=contact)
    # The list is built while both have consented …
    emails = [Email(east.pk, "Offer", "Hi"), Email(east.pk, "Offer", "Hi", contact.pk)]
    # … then the contact opts out before the send.
    _give(users["service1"], east, status="refused", contact=contact, source="phone")
    summary = send_marketing_emails(marketing, emails, origin="campaign", origin_id=7)
    assert summary.counts == {"sent": 1, "refused": 1}
    assert [m.to for m in mail.outbox] == [["info@huadong.example"]]
    assert selectors.sends_for(marketing, "campaign", 7).count() == 2


def test_refusing_automated_marketing_or_personalisation_stops_those_emails(users,
                                                                           customers):
    marketing, east = users["marketing1"], customers["east"]
    _give(marketing, east)
    _give(marketing, east, channel="personalisation", status="refused")
    summary = send_marketing_emails(marketing, [Email(east.pk, "For you", "x")],
                                    origin="offer", personalised=True)
    assert summary.counts == {"objected": 1}
    summary = send_marketing_emails(marketing, [Email(east.pk, "News", "x")],
                                    origin="mailing")
    assert summary.counts == {"sent": 1}
    _give(marketing, east, channel="automated", status="refused")
    summary = send_marketing_emails(marketing, [Email(east.pk, "News", "x")],
                                    origin="mailing")
    assert summary.counts == {"objected": 1}
    assert selectors.refusing(marketing, "personalisation", [east.pk]) == {east.pk}


def test_customers_out_of_scope_are_not_sent_to(users, customers):
    north = customers["north"]
    _give(users["admin"], north)
    north.email = "info@huabei.example"
    north.save()
    summary = send_marketing_emails(users["marketing1"], [Email(north.pk, "x", "y")],
                                    origin="mailing")
    assert summary.sent == 0 and summary.out_of_scope == 1 and mail.outbox == []
    with pytest.raises(NotPermitted):
        send_marketing_email(users["marketing1"], north, subject="x", body="y",
                             origin="mailing")
    with pytest.raises(NotPermitted):
        send_marketing_email(users["sales1"], customers["east"], subject="x", body="y",
                             origin="mailing")


def test_the_unsubscribe_link_opts_out_without_login(users, customers, client: Client):
    marketing, east = users["marketing1"], customers["east"]
    _give(marketing, east)
    send_marketing_email(marketing, east, subject="News", body="Hello", origin="mailing")
    message = mail.outbox[0]
    url = _link(message)
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200
    assert "Unsubscribe" in page.content.decode()
    assert Consent.objects.get(customer=east, channel="email").status == "given"  # GET: no
    page = client.post("/" + path)
    assert "You are unsubscribed" in page.content.decode()
    assert east.name not in page.content.decode()
    consent = Consent.objects.get(customer=east, channel="email")
    assert (consent.status, consent.source) == ("refused", "unsubscribe")
    assert list(ConsentChange.objects.filter(customer=east).values_list("status", flat=True)
                ) == ["refused", "given"]
    assert AuditEvent.objects.filter(action="consent.unsubscribe", customer_id=east.pk).exists()
    mail.outbox.clear()
    send = send_marketing_email(marketing, east, subject="News", body="Again",
                                origin="mailing")
    assert send.status == SendStatus.REFUSED and mail.outbox == []


def test_a_forged_or_altered_link_changes_nothing(users, customers, client: Client):
    east, north = customers["east"], customers["north"]
    _give(users["admin"], north)
    token = unsubscribe_token(east.pk)
    forged = token.replace(token.split(":")[0], unsubscribe_token(north.pk).split(":")[0])
    assert read_unsubscribe_token(forged) is None
    page = client.post(f"/unsubscribe/{forged}/")
    assert page.status_code == 404
    assert "not valid" in page.content.decode()
    assert Consent.objects.get(customer=north, channel="email").status == "given"
    assert client.post("/unsubscribe/nonsense/").status_code == 404


def test_the_unsubscribe_page_speaks_chinese(client: Client, customers):
    page = client.get(f"/unsubscribe/{unsubscribe_token(customers['east'].pk)}/",
                      HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "退订" in page.content.decode()


def test_consent_keeps_its_history_and_refuses_bad_input(users, customers, children):
    east = customers["east"]
    consent = _give(users["sales1"], east, channel="sms")
    services.set_consent(users["sales1"], east, channel="sms", status="refused",
                         source="phone", expected_version=consent.version)
    assert [c.status for c in selectors.history(users["sales1"], consent)] == ["refused",
                                                                               "given"]
    with pytest.raises(ServiceError):
        services.set_consent(users["sales1"], east, channel="sms", status="given",
                             source="form", expected_version=consent.version)  # stale
    with pytest.raises(ServiceError, match="channel"):
        services.set_consent(users["sales1"], east, channel="fax", status="given",
                             source="form")
    with pytest.raises(ServiceError):
        services.set_consent(users["sales1"], east, channel="email", status="given",
                             source="form", contact=children["north"]["contact"])
    with pytest.raises(NotPermitted):
        services.set_consent(users["analyst1"], east, channel="email", status="given",
                             source="form")
    with pytest.raises(NotPermitted):
        services.set_consent(users["sales2"], east, channel="email", status="given",
                             source="form")


def test_a_merge_keeps_the_later_answer_and_both_histories(users, customers):
    from kehu.customers.services import create_customer
    from kehu.dataio.quality.merge import merge_customers

    admin = users["admin"]
    a = customers["east"]
    b = create_customer(admin, {"name": "上海华东贸易"}, owner=users["sales1"])
    _give(admin, a)  # given first …
    _give(admin, b, status="refused", source="phone")  # … refused later on the twin
    merge_customers(admin, a, b, take_from_loser=[], survivor_version=None,
                    loser_version=None)
    consent = Consent.objects.get(customer=a, channel="email", contact=None)
    assert consent.status == "refused"
    assert list(consent.changes.values_list("status", flat=True)) == ["refused", "given"]
