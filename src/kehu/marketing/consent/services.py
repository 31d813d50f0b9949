"""Writes of consent: a user records a person's answer (set_consent), and a person opts out
through the link in an e-mail (unsubscribe). Each keeps the history and is audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import VIEW, can
from kehu.core.versions import check_version
from kehu.customers.models import Contact, Customer
from kehu.marketing.consent.links import read_unsubscribe_token
from kehu.marketing.consent.models import (
    Channel,
    Consent,
    ConsentChange,
    ConsentSource,
    ConsentStatus,
)


def _write(customer: Customer, contact: Contact | None, channel: str, status: str,
           source: str, at: dt.datetime, note: str, user, expected_version: int | None
           ) -> tuple[Consent, str | None]:
    consent = (Consent.objects.select_for_update()
               .filter(customer=customer, contact=contact, channel=channel).first())
    before = None
    if consent is None:
        consent = Consent(customer=customer, contact=contact, channel=channel)
    else:
        check_version(consent, expected_version, _("consent"))
        before = consent.status
        consent.version += 1
    consent.status, consent.source, consent.at, consent.note = status, source, at, note
    consent.recorded_by = user if getattr(user, "pk", None) else None
    consent.save()
    ConsentChange.objects.create(consent=consent, customer=customer, status=status,
                                 source=source, at=at, note=note,
                                 recorded_by=consent.recorded_by)
    return consent, before


@transaction.atomic
def set_consent(user, customer: Customer, *, channel: str, status: str, source: str,
                contact: Contact | None = None, at: dt.datetime | None = None,
                note: str = "", expected_version: int | None = None,
                ip: str | None = None, via: str = "web") -> Consent:
    """Record the answer of the customer (or of one of its contact people) for one channel
    or use: given or refused, how we learnt it (`source`) and when (`at`, default now).
    The previous answer stays in the history."""
    if not policy.may_record_consent(user) or not can(user, VIEW, customer):
        raise NotPermitted(_("You may not record consent for this customer."))
    if channel not in Channel.values:
        raise ServiceError(_("Choose a channel."), field="channel")
    if status not in ConsentStatus.values:
        raise ServiceError(_("Choose given or refused."), field="status")
    if source not in ConsentSource.values or source == ConsentSource.UNSUBSCRIBE:
        raise ServiceError(_("Choose how the answer was given."), field="source")
    if contact is not None and contact.customer_id != customer.pk:
        raise ServiceError(_("This contact is not one of the customer's."), field="contact")
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise ServiceError(_("The date of the answer cannot be in the future."), field="at")
    note = (note or "").strip()
    if len(note) > 300:
        raise ServiceError(_("The note is at most 300 characters."), field="note")
    consent, before = _write(customer, contact, channel, status, source, at, note, user,
                             expected_version)
    record(user, "consent.set", obj=customer, ip=ip, via=via, detail={
        "channel": channel, "status": status, "source": source, "from": before or "",
        **({"contact": contact.pk} if contact is not None else {})})
    return consent


@transaction.atomic
def unsubscribe(token: str, *, ip: str | None = None) -> bool:
    """The person who received an e-mail opted out of marketing e-mail through its link:
    their consent to e-mail becomes refused (source: the unsubscribe link). True when the
    token was one of ours and named someone still on file; the page says the same either
    way, so that a link reveals nothing."""
    ids = read_unsubscribe_token(token)
    if ids is None:
        return False
    customer = Customer.objects.filter(pk=ids[0]).first()
    if customer is None:
        return False
    contact = None
    if ids[1] is not None:
        contact = Contact.objects.filter(pk=ids[1], customer=customer).first()
        if contact is None:
            return False
    current = Consent.objects.filter(customer=customer, contact=contact,
                                     channel=Channel.EMAIL).first()
    if current is not None and current.status == ConsentStatus.REFUSED:
        return True
    _write(customer, contact, Channel.EMAIL, ConsentStatus.REFUSED, ConsentSource.UNSUBSCRIBE,
           timezone.now(), "", None, None)
    record(None, "consent.unsubscribe", obj=customer, ip=ip, via="web", detail={
        "channel": Channel.EMAIL, **({"contact": contact.pk} if contact is not None else {})})
    return True
