"""Reads of key-account plans, each scoped to what the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kehu.core import policy
from kehu.core.permissions import CHANGE, VIEW, can, restrict
from kehu.customers.models import (
    Attitude,
    Contact,
    ContactRelationship,
    Customer,
    DecisionRole,
    TransactionKind,
    TransactionLine,
)
from kehu.customers.selectors import contacts as scoped_contacts
from kehu.sales.models import Competitor
from kehu.sales.plans import keys, orientation
from kehu.sales.plans.models import AccountPlan, PlanCompetitor, PlanStep


def plans(user, action: str = VIEW) -> QuerySet[AccountPlan]:
    return restrict(AccountPlan.objects.select_related("customer", "owner"), user, action)


def get_plan(user, pk, action: str = VIEW) -> AccountPlan:
    """The plan if the user may take `action` on its customer; DoesNotExist otherwise (404)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise AccountPlan.DoesNotExist from None
    return plans(user, action).get(pk=pk)


def plan_of(user, customer: Customer) -> AccountPlan | None:
    return plans(user).filter(customer=customer).first()


@dataclass(frozen=True)
class PlanFilters:
    q: str = ""
    owner: int | None = None
    relationship_level: str = ""
    buying_orientation: str = ""
    review_due: bool = False  # the next review is today or past


def plan_list(user, filters: PlanFilters, today: dt.date | None = None) -> QuerySet[AccountPlan]:
    qs = plans(user)
    if filters.q:
        qs = qs.filter(customer__name__icontains=filters.q)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.relationship_level:
        qs = qs.filter(relationship_level=filters.relationship_level)
    if filters.buying_orientation:
        qs = qs.filter(buying_orientation=filters.buying_orientation)
    if filters.review_due:
        qs = qs.filter(review_on__lte=today or dt.date.today())
    return qs


def sheets(user, plan: AccountPlan) -> QuerySet[PlanCompetitor]:
    return restrict(PlanCompetitor.objects.select_related("competitor"), user).filter(plan=plan)


def get_sheet(user, plan: AccountPlan, pk: int) -> PlanCompetitor:
    return sheets(user, plan).get(pk=pk)


def steps(user, plan: AccountPlan) -> QuerySet[PlanStep]:
    return restrict(PlanStep.objects.select_related("owner", "task", "task__closed_by"),
                    user).filter(plan=plan)


def get_step(user, plan: AccountPlan, pk: int) -> PlanStep:
    return steps(user, plan).get(pk=pk)


def competitors(user) -> QuerySet[Competitor]:
    """The firm's list of competitors, for a plan to pick from (everybody may read it)."""
    return Competitor.objects.order_by("name") if user.is_authenticated else \
        Competitor.objects.none()


def step_owners(user, customer: Customer) -> list:
    """Whom the user may give a plan step (and its task): those they may give tasks to who
    may see the customer."""
    return [u for u in policy.assignable_owners(user).order_by("username")
            if can(u, VIEW, customer)]


def key_reason(user, customer: Customer) -> str:
    """Why the customer is a key account according to the value scores; empty if not."""
    qs = restrict(Customer.objects.filter(pk=customer.pk), user)
    return keys.key_reasons(qs).get(customer.pk, "")


def may_start_plan(user, customer: Customer) -> bool:
    """A plan is for a key account: one the value scores mark, or any customer a manager
    decides; the user must be allowed to change the customer."""
    if not can(user, CHANGE, customer):
        return False
    return policy.may_designate_key_accounts(user) or bool(key_reason(user, customer))


def key_customers_without_plan(user, limit: int = 20) -> list[tuple[Customer, str]]:
    """Key accounts the user may write a plan for that have none yet, with why each is key."""
    qs = restrict(Customer.objects.filter(account_plan__isnull=True), user, CHANGE)
    reasons = keys.key_reasons(qs, limit)
    found = {c.pk: c for c in Customer.objects.filter(pk__in=list(reasons)).select_related(
        "owner")}
    return [(found[pk], reason) for pk, reason in reasons.items() if pk in found][:limit]


# The decision chain ----------------------------------------------------------------------

ROLE_ORDER = [DecisionRole.APPROVER, DecisionRole.DECISION_MAKER, DecisionRole.EVALUATOR,
              DecisionRole.INFLUENCER]
RELATIONSHIP_STRENGTH = {ContactRelationship.NONE: 0, ContactRelationship.ACQUAINTED: 1,
                         ContactRelationship.GOOD: 2, ContactRelationship.CLOSE: 3}
ATTITUDE_MARK = {Attitude.SUPPORTS: "+", Attitude.NEUTRAL: "=", Attitude.OPPOSES: "−", "": "?"}


@dataclass(frozen=True)
class ChainPerson:
    contact: Contact
    attitude: str  # value, "" unknown
    attitude_label: str
    mark: str  # + = − ?: the attitude without colour
    relationship: str
    relationship_label: str
    strength: int | None  # 0-3, None unknown


@dataclass(frozen=True)
class ChainTier:
    role: str  # a DecisionRole value, "" for contacts with no role yet
    label: str
    people: list[ChainPerson]


def decision_chain(user, customer: Customer) -> list[ChainTier]:
    """The customer's contacts by their role in the decision chain (approver first), each
    with their attitude to us and our relationship with them; contacts without a role last."""
    by_role: dict[str, list[ChainPerson]] = {r: [] for r in [*ROLE_ORDER, ""]}
    for c in scoped_contacts(user).filter(customer=customer).order_by("name", "pk"):
        by_role.setdefault(c.decision_role or "", []).append(ChainPerson(
            contact=c, attitude=c.attitude,
            attitude_label=c.get_attitude_display() if c.attitude else _("Attitude not known"),
            mark=ATTITUDE_MARK.get(c.attitude, "?"),
            relationship=c.our_relationship,
            relationship_label=(c.get_our_relationship_display() if c.our_relationship
                                else _("Relationship not known")),
            strength=RELATIONSHIP_STRENGTH.get(c.our_relationship)))
    tiers = [ChainTier(r, str(DecisionRole(r).label), by_role[r]) for r in ROLE_ORDER]
    if by_role[""]:
        tiers.append(ChainTier("", _("No role in the decision chain yet"), by_role[""]))
    return tiers


# Buying orientation ----------------------------------------------------------------------

def purchase_lines(user, customer: Customer) -> list[orientation.Line]:
    """The customer's order and invoice lines of products with a list price."""
    if not can(user, VIEW, customer):
        return []
    rows = (TransactionLine.objects
            .filter(transaction__customer=customer, product__isnull=False,
                    product__unit_price__gt=0,
                    transaction__kind__in=[TransactionKind.ORDER, TransactionKind.INVOICE])
            .filter(~Q(quantity__lte=0))
            .values_list("transaction_id", "transaction__date", "product_id", "quantity",
                         "unit_price", "product__unit_price"))
    return [orientation.Line(*row) for row in rows]


def suggested_orientation(user, customer: Customer) -> orientation.Suggestion:
    return orientation.suggest_from(purchase_lines(user, customer))
