"""How a customer falls into a service group (服务群体, seed 004): households, SMEs and large
enterprises are served differently, and their service-level targets differ.

The rule reads the card: a person (or a customer of the nature "individual") is a household;
an organisation is a large enterprise from 1,000 staff, an SME below; an organisation whose
size is not known keeps the group recorded on its card. A manager may decide otherwise for a
customer, with a reason (ServiceGroupChoice); the latest decision holds until it is withdrawn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kehu.customers.models import CompanySize, Customer, CustomerKind, CustomerNature, ServiceGroup
from kehu.service.sla.models import ServiceGroupChoice

# What each group is promised (seed 004), shown beside its targets and on the ticket.
PROMISES = {
    ServiceGroup.HOUSEHOLD: _("On-site service, fixed at the first visit, and a follow-up call."),
    ServiceGroup.SME: _("Service packages, training and scheduled maintenance: we know their "
                        "systems better than they do."),
    ServiceGroup.LARGE: _("A named service team, integrated solutions and executive visits."),
}


class Source:
    DECIDED = "decided"
    RULE = "rule"
    CARD = "card"


@dataclass(frozen=True)
class GroupDecision:
    group: str
    source: str  # Source.*
    reason: str  # why, in the reader's language (or the decider's words)
    by: str = ""
    at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return str(ServiceGroup(self.group).label) if self.group in ServiceGroup.values \
            else self.group

    @property
    def promise(self) -> str:
        return str(PROMISES.get(self.group, ""))


def by_rule(customer: Customer) -> GroupDecision:
    if customer.kind == CustomerKind.PERSON or customer.nature == CustomerNature.INDIVIDUAL:
        return GroupDecision(ServiceGroup.HOUSEHOLD, Source.RULE,
                             str(_("A person buying for their household.")))
    if customer.size == CompanySize.LARGE:
        return GroupDecision(ServiceGroup.LARGE, Source.RULE,
                             str(_("An organisation of 1,000 staff or more.")))
    if customer.size:
        return GroupDecision(ServiceGroup.SME, Source.RULE,
                             str(_("An organisation of fewer than 1,000 staff.")))
    return GroupDecision(customer.service_group or ServiceGroup.SME, Source.CARD,
                         str(_("As recorded on the customer card (the company size is not "
                               "known).")))


def _decided(choice: ServiceGroupChoice) -> GroupDecision:
    return GroupDecision(choice.service_group, Source.DECIDED, choice.reason,
                         by=str(choice.by) if choice.by_id else "", at=choice.at)


def latest_choices(customer_ids: Iterable[int]) -> dict[int, ServiceGroupChoice]:
    """The latest decision per customer (withdrawn ones included), one query."""
    out: dict[int, ServiceGroupChoice] = {}
    ids = list(customer_ids)
    if not ids:
        return out
    rows = ServiceGroupChoice.objects.filter(customer_id__in=ids).select_related("by") \
        .order_by("customer_id", "-at", "-id")
    for row in rows:
        out.setdefault(row.customer_id, row)
    return out


def group_of(customer: Customer, choice: ServiceGroupChoice | None = None,
             *, looked_up: bool = False) -> GroupDecision:
    """The customer's service group and why. Pass the latest choice (or None with
    looked_up=True) when the caller fetched them for many customers at once."""
    if not looked_up:
        choice = latest_choices([customer.pk]).get(customer.pk)
    if choice is not None and choice.service_group:
        return _decided(choice)
    return by_rule(customer)


def groups_of(customers: Iterable[Customer]) -> dict[int, GroupDecision]:
    customers = list(customers)
    choices = latest_choices(c.pk for c in customers)
    return {c.pk: group_of(c, choices.get(c.pk), looked_up=True) for c in customers}
