"""The one place that decides which customers a user may see or touch.

Every list, detail, search, API call and export calls `restrict(queryset, user, action)`;
models that hang off a customer name the path to it in `CUSTOMER_PATHS`. A record the user
may not see is simply absent from the queryset, so views answer 404 and ids do not leak.
What a role may do beyond its scope of customers (import, export, refresh, reassign …) is
answered by kehu.core.policy.

Besides the role's scope, VIEW covers the customers lent to the user right now (kehu.loans,
利用和借阅): read-only — no other action — and only until the loan's end date, which is
compared with the clock on every read, so that a loan ends by itself. The sensitive tier
stays the user's own (User.sees_sensitive), loan or not.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Q, QuerySet

from kehu.core.roles import Role

VIEW = "view"
CHANGE = "change"  # edit the card, its contacts and transactions, set the lifecycle state
CONTRIBUTE = "contribute"  # add activities to the timeline
DELETE = "delete"
EXPORT = "export"
# Answer a data-subject request (export or erase everything about a person). Not a role's
# scope: privacy officers (accounts.User.privacy_officer) may do it for every customer, and
# nobody else for any, admins included.
PRIVACY = "privacy"
ACTIONS = (VIEW, CHANGE, CONTRIBUTE, DELETE, EXPORT, PRIVACY)

# Which actions each role may take, and over which scope of customers:
# "own" = customers the user owns; "team" = customers owned in the user's team;
# "own+shared" = own, plus the team's when the team shares customers.
_SCOPES: dict[str, dict[str, str]] = {
    Role.MANAGER: {VIEW: "team", CHANGE: "team", CONTRIBUTE: "team", DELETE: "team",
                   EXPORT: "team"},
    Role.SALES: {VIEW: "own+shared", CHANGE: "own+shared", CONTRIBUTE: "own+shared",
                 EXPORT: "own+shared"},
    Role.SERVICE: {VIEW: "team", CONTRIBUTE: "team"},
    Role.MARKETING: {VIEW: "team", EXPORT: "team"},
    Role.ANALYST: {VIEW: "team", EXPORT: "team"},
}

CUSTOMER_PATHS: dict[str, str] = {
    "customers.customer": "",
    "customers.contact": "customer__",
    "customers.transaction": "customer__",
    "customers.lifecycletransition": "customer__",
    "customers.ownerassignment": "customer__",
    "customers.statelock": "customer__",
    "analytics.customervalue": "customer__",
    "sales.activity": "customer__",
    "sales.receivable": "customer__",
    "sales.payment": "receivable__customer__",
    "sales.creditincident": "customer__",
    "sales.creditflag": "customer__",
    "sales.opportunity": "customer__",
    "sales.stagechange": "opportunity__customer__",
    "tasks.task": "customer__",
    "sales.accountplan": "customer__",
    "sales.plancompetitor": "plan__customer__",
    "sales.planstep": "plan__customer__",
    "service.ticket": "customer__",
    "service.ticketentry": "ticket__customer__",
    "service.statuschange": "ticket__customer__",
    "marketing.consent": "customer__",
    "marketing.consentchange": "customer__",
    "marketing.marketingsend": "customer__",
    "marketing.referralcode": "customer__",
    "marketing.referralreward": "customer__",
    "service.surveyinvitation": "customer__",
    "service.surveyresponse": "customer__",
    "service.surveyanswer": "response__customer__",
    "marketing.targetlistmember": "customer__",
    "marketing.campaigncontact": "customer__",
    "service.articleticket": "ticket__customer__",
    "marketing.offerlist": "customer__",
    "marketing.offeritem": "offer_list__customer__",
    "marketing.offersend": "offer_list__customer__",
    "marketing.coupon": "customer__",
}

# Records that are no customer but belong to their owner's scope like one (a lead,
# kehu.sales.leads): the path to the record carrying `owner` and `team`. Loans lend
# customers only, so they never reach these.
OWNED_PATHS: dict[str, str] = {
    "sales.lead": "",
    "marketing.campaign": "",
    "marketing.targetlist": "",
}
# Records about a customer OR about an owned record (a task about a lead before it is a
# customer): the other path; such a record is in scope when either of the two is.
ALSO_OWNED_PATHS: dict[str, str] = {
    "tasks.task": "lead__",
}

_NOTHING = Q(pk__in=[])


def customer_filter(user, action: str, prefix: str = "", *, loans: bool = True) -> Q | None:
    """The condition on customers for `user` doing `action`; None means no restriction.
    With `loans` (the default), VIEW includes the customers lent to the user now; without,
    the condition is the user's own scope (who is responsible, whose figures add up)."""
    condition = _scope_filter(user, action, prefix)
    if action != VIEW or not loans or condition is None or not _signed_in(user):
        return condition
    borrowed = borrowed_customer_ids(user)
    if not borrowed:
        return condition
    on_loan = Q(**{f"{prefix}pk__in": borrowed})
    return on_loan if condition is _NOTHING else condition | on_loan


def borrowed_customer_ids(user) -> list[int]:
    """The customers lent to `user` at this moment (kehu.loans.models.Loan, read lazily so
    that this module imports no other kehu app).

    One small indexed query whose ids go into the condition as a list, instead of a
    subquery OR-ed into every customer query: with a subquery the database can no longer
    walk the (owner|team, name, id) index for a page of the list and sorts the whole scope
    instead; with no loan (nearly everyone, nearly always) the condition is unchanged."""
    loan = apps.get_model("loans", "Loan")
    return list(loan.objects.active().filter(borrower_id=user.pk, customer__isnull=False)
                .values_list("customer_id", flat=True).distinct())


def loan_behind_view(user, customer):
    """The loan (kehu.loans.models.Loan) through which `user` reads `customer` when their
    own scope does not reach it, else None: for the audit log, this read was under a loan."""
    loan_model = apps.get_model("loans", "Loan")
    loan = loan_model.objects.active().filter(customer=customer, borrower_id=user.pk).order_by(
        "-ends_at").first()
    if loan is None:
        return None
    return None if in_own_scope(user, customer) else loan


def in_own_scope(user, customer) -> bool:
    """Whether `customer` is in the user's own scope, not only lent to them: a file on loan
    is one to read, never one to build offers for or act on."""
    own = customer_filter(user, VIEW, loans=False)
    return own is None or type(customer)._default_manager.filter(own, pk=customer.pk).exists()


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _scope_filter(user, action: str, prefix: str) -> Q | None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not _signed_in(user):
        return _NOTHING
    if action == PRIVACY:
        return None if user.is_privacy_officer else _NOTHING
    if user.is_kehu_admin:
        return None
    scope = _SCOPES.get(user.role, {}).get(action)
    own = Q(**{f"{prefix}owner_id": user.pk})
    if scope is None:
        return _NOTHING
    if user.team_id is None:
        return own
    team = Q(**{f"{prefix}team_id": user.team_id})
    if scope == "own":
        return own
    if scope == "team":
        return team
    if scope == "own+shared":
        return own | team if user.team.share_customers else own
    raise AssertionError(scope)


def has_action(user, action: str) -> bool:
    """Whether the user may take `action` on any customer at all (to show or hide a page)."""
    return customer_filter(user, action, loans=False) is not _NOTHING


def owned_filter(user, action: str, prefix: str = "") -> Q | None:
    """The condition on an owned record (OWNED_PATHS) for `user` doing `action`: the scope
    of its owner, as for a customer, without loans. None means no restriction."""
    if action == PRIVACY:
        return _NOTHING
    return _scope_filter(user, action, prefix)


def restrict(queryset: QuerySet, user, action: str = VIEW) -> QuerySet:
    label = queryset.model._meta.label_lower
    if label in OWNED_PATHS:
        condition = owned_filter(user, action, OWNED_PATHS[label])
        return queryset if condition is None else queryset.filter(condition)
    if label in ALSO_OWNED_PATHS:
        on_customer = customer_filter(user, action, CUSTOMER_PATHS[label])
        on_owned = owned_filter(user, action, ALSO_OWNED_PATHS[label])
        if on_customer is None and on_owned is None:
            return queryset
        prefix = CUSTOMER_PATHS[label]
        either = ((Q(**{f"{prefix}isnull": False}) & on_customer) if on_customer is not None
                  else Q(**{f"{prefix}isnull": False}))
        path = ALSO_OWNED_PATHS[label]
        either |= ((Q(**{f"{path}isnull": False}) & on_owned) if on_owned is not None
                   else Q(**{f"{path}isnull": False}))
        return queryset.filter(either)
    try:
        prefix = CUSTOMER_PATHS[label]
    except KeyError:
        raise LookupError(f"{label} has no customer path; add it to CUSTOMER_PATHS") from None
    condition = customer_filter(user, action, prefix)
    return queryset if condition is None else queryset.filter(condition)


def can(user, action: str, customer) -> bool:
    """Whether `user` may take `action` on this one customer (checked in the database)."""
    customers = apps.get_model("customers", "Customer")._default_manager
    return restrict(customers.filter(pk=customer.pk), user, action).exists()
