"""Offer lists go out by e-mail only through the marketing send service: consent to e-mail
and a refusal of personalisation are checked when each e-mail is sent, not when the list was
built; a person who refused personalisation gets no offer list at all; each send is recorded
on the list."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from kehu.core.errors import ServiceError
from kehu.core.jobs import Progress
from kehu.core.models import Job
from kehu.marketing.consent.models import MarketingSend
from kehu.marketing.consent.services import set_consent
from kehu.marketing.offers import mailing, services
from kehu.marketing.offers.models import OfferList, OfferSend
from tests.marketing.conftest import set_loyalty

pytestmark = pytest.mark.django_db


def _consent(admin, customer, channel="email", status="given"):
    set_consent(admin, customer, channel=channel, status=status, source="form")


def test_a_list_is_emailed_through_the_send_service_with_an_unsubscribe_link(shop, users):
    admin, marketing = users["admin"], users["marketing1"]
    _consent(admin, shop.li)
    offer_list = services.build_offer_list(marketing, shop.li, as_of=shop.today)
    send = services.send_offer_list(marketing, offer_list)
    assert (send.channel, send.status, send.recipient) == ("email", "sent",
                                                           "li.na@example.com")
    [message] = mail.outbox
    assert message.to == ["li.na@example.com"]
    assert "Fresh milk 1 L (MILK)" in message.body and offer_list.coupon.code in message.body
    assert "/unsubscribe/" in message.body and message.extra_headers["List-Unsubscribe"]
    recorded = MarketingSend.objects.get(origin="offer", origin_id=offer_list.pk)
    assert (recorded.customer_id, recorded.status) == (shop.li.pk, "sent")


def test_consent_and_a_refusal_of_personalisation_are_checked_when_it_is_sent(shop, users):
    admin, marketing = users["admin"], users["marketing1"]
    offer_list = services.build_offer_list(marketing, shop.li, as_of=shop.today)
    # No consent to e-mail yet: held back, and the list says why.
    send = services.send_offer_list(marketing, offer_list)
    assert send.status == "refused" and "no consent" in send.note
    # Consent given, then personalisation refused after the list was built: still nothing.
    _consent(admin, shop.li)
    _consent(admin, shop.li, channel="personalisation", status="refused")
    send = services.send_offer_list(marketing, offer_list)
    assert send.status == "refused" and "personalisation" in send.note
    assert mail.outbox == []
    assert list(offer_list.sends.values_list("status", flat=True)) == ["refused", "refused"]


def test_who_refused_personalisation_gets_no_offer_list(shop, users):
    admin, marketing = users["admin"], users["marketing1"]
    _consent(admin, shop.li, channel="personalisation", status="refused")
    with pytest.raises(ValidationError, match="refused personalisation"):
        services.build_offer_list(marketing, shop.li, as_of=shop.today)
    assert services.build_offer_lists(marketing, as_of=shop.today).lists == 0
    assert services.build_offer_lists(None, as_of=shop.today).lists == 0  # the daily run
    # A refusal of automated marketing alone does not stop the list being built.
    _consent(admin, shop.li, channel="personalisation", status="given")
    _consent(admin, shop.li, channel="automated", status="refused")
    assert services.build_offer_lists(None, as_of=shop.today).lists == 1


def test_the_current_lists_are_emailed_as_a_job_each_checked_as_sent(shop, users, monkeypatch):
    from kehu.customers.models import Customer

    admin, marketing = users["admin"], users["marketing1"]
    li, other = shop.li, shop.others[0]
    Customer.objects.filter(pk=other.pk).update(email="s0@example.com")
    set_loyalty(other, 55.0, "develop")  # a silver coupon: something to send
    for customer in (li, other):
        _consent(admin, customer)
        services.build_offer_list(marketing, customer, as_of=shop.today)
    monkeypatch.setattr("kehu.core.jobs.start", lambda kind, target, **kw: (kind, kw))
    kind, kw = services.start_offer_mailing(marketing, today=shop.today)
    assert kind == mailing.JOB
    user_id, ids = kw["args"]
    assert ids == sorted(OfferList.objects.values_list("pk", flat=True))
    # The other customer opts out between the start and the send.
    _consent(admin, other, status="refused")
    job = Job.objects.create(kind=mailing.JOB, user=marketing)
    result = mailing.run_offer_mailing(Progress(job.pk), user_id, ids)
    assert result == {"sent": 1, "held": 1, "counts": {"sent": 1, "refused": 1},
                      "out_of_scope": 0}
    assert [m.to for m in mail.outbox] == [["li.na@example.com"]]
    assert MarketingSend.objects.filter(job=job, origin="offer").count() == 2
    assert dict(OfferSend.objects.values_list("offer_list__customer_id", "status")) == {
        li.pk: "sent", other.pk: "refused"}
    # Li Na's list went out; the other's is offered again, and nothing once both went.
    kind, kw = services.start_offer_mailing(marketing, today=shop.today)
    assert kw["args"][1] == [OfferList.objects.get(customer=other).pk]
    OfferSend.objects.update(status="sent")
    with pytest.raises(ServiceError, match="e-mailed already"):
        services.start_offer_mailing(marketing, today=shop.today)
    assert list(Job.objects.all()) == [job]  # none started by the refused attempts


def test_the_card_and_the_offers_page_offer_the_email(shop, users, client):
    admin, marketing = users["admin"], users["marketing1"]
    _consent(admin, shop.li)
    services.build_offer_list(marketing, shop.li, as_of=shop.today)
    client.force_login(marketing)
    card = client.get(f"/customers/{shop.li.pk}/?tab=offers").content.decode()
    assert 'id="offer-email"' in card
    answer = client.post(f"/customers/{shop.li.pk}/offers/email/", follow=True)
    assert "was e-mailed to li.na@example.com" in answer.content.decode()
    assert len(mail.outbox) == 1
    page = client.get("/marketing/offers/").content.decode()
    assert 'id="offers-email-due"' in page and 'href="/marketing/referrals/"' in page
    _consent(admin, shop.li, channel="personalisation", status="refused")
    card = client.get(f"/customers/{shop.li.pk}/?tab=offers").content.decode()
    assert 'id="offers-refused"' in card and "Build a new list now" not in card
