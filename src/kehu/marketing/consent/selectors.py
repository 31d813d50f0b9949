"""Reads of consent and of marketing sends, each limited to the customers the user may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from kehu.core.pagination import Page, keyset_page
from kehu.core.permissions import VIEW, restrict
from kehu.customers.models import Customer
from kehu.marketing.consent.models import (
    CHANNELS,
    USES,
    Channel,
    Consent,
    ConsentChange,
    ConsentStatus,
    MarketingSend,
)


def consents(user, action: str = VIEW) -> QuerySet[Consent]:
    return restrict(Consent.objects.select_related("customer", "contact", "recorded_by"),
                    user, action)


def get_consent(user, pk: int) -> Consent:
    """The consent if the user may see its customer; Consent.DoesNotExist (404) otherwise."""
    return consents(user).get(pk=pk)


@dataclass
class ConsentFilters:
    customer: int | None = None
    contact: int | None = None
    channel: str = ""
    status: str = ""
    source: str = ""


def consent_page(user, filters: ConsentFilters, *, cursor: str | None = None,
                 limit: int = 50) -> Page:
    qs = consents(user)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.contact:
        qs = qs.filter(contact_id=filters.contact)
    for name in ("channel", "status", "source"):
        if getattr(filters, name):
            qs = qs.filter(**{name: getattr(filters, name)})
    return keyset_page(qs, sort="updated_at", descending=True, cursor=cursor, limit=limit)


def history(user, consent: Consent) -> QuerySet[ConsentChange]:
    return ConsentChange.objects.filter(
        consent__in=consents(user).filter(pk=consent.pk)).select_related("recorded_by")


@dataclass
class ConsentRow:
    """One line of the card's consent table: who (the customer, or a contact person),
    a channel or use, and the current answer (None: never asked)."""

    channel: str
    label: str
    consent: Consent | None
    is_use: bool

    @property
    def allowed(self) -> bool:
        if self.is_use:
            return self.consent is None or self.consent.status != ConsentStatus.REFUSED
        return self.consent is not None and self.consent.status == ConsentStatus.GIVEN


@dataclass
class PersonConsents:
    contact: object | None  # a Contact, or None for the customer itself
    rows: list[ConsentRow]


def consents_of(user, customer: Customer) -> list[PersonConsents]:
    """The customer's answers and each contact person's, every channel and use in order
    (the customer must be in the user's scope)."""
    found = list(consents(user).filter(customer=customer))
    by_key = {(c.contact_id, c.channel): c for c in found}
    people: list = [None, *customer.contacts.order_by("-is_primary", "name")]
    out = []
    for person in people:
        pk = person.pk if person is not None else None
        rows = [ConsentRow(ch, str(Channel(ch).label), by_key.get((pk, ch)), ch in USES)
                for ch in (*CHANNELS, *USES)]
        out.append(PersonConsents(person, rows))
    return out


def changes_of(user, customer: Customer, limit: int = 50) -> list[ConsentChange]:
    """The customer's consent history, newest first."""
    return list(ConsentChange.objects.filter(
        customer__in=restrict(Customer.objects.filter(pk=customer.pk), user, VIEW))
        .select_related("consent", "consent__contact", "recorded_by")[:limit])


def sends(user) -> QuerySet[MarketingSend]:
    return restrict(MarketingSend.objects.select_related("customer", "contact", "sent_by"),
                    user, VIEW)


def sends_of(user, customer: Customer, limit: int = 50) -> list[MarketingSend]:
    """The marketing e-mails sent (or held back) to the customer, newest first."""
    return list(sends(user).filter(customer=customer)[:limit])


def sends_for(user, origin: str, origin_id: int | None = None) -> QuerySet[MarketingSend]:
    """The sends of one origin ("campaign", "offer" …), or of one of its records, among the
    customers the user may see: for the part that sent them to count its contacts."""
    qs = sends(user).filter(origin=origin)
    return qs if origin_id is None else qs.filter(origin_id=origin_id)


def refusing(user, use: str, customer_ids: Iterable[int]) -> set[int]:
    """Of these customers (in the user's scope), those who refused `use` (Channel.AUTOMATED
    or Channel.PERSONALISATION) themselves: e.g. offers build no personalised list for
    them."""
    if use not in USES:
        raise ValueError(f"{use!r} is not a use one can refuse")
    return set(restrict(Consent.objects.filter(
        customer_id__in=list(customer_ids), contact__isnull=True, channel=use,
        status=ConsentStatus.REFUSED), user, VIEW).values_list("customer_id", flat=True))
