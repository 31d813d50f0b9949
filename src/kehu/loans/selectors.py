"""Every read of loans a user can trigger. A user sees the loans they asked for (their
side: "borrowed") and the loans of the customers they decide on (the owner, a manager of the
owner's team, admins: "lent"); nobody else's. A borrower sees which customer a request
matched only once it is lent to them: until then they see what they typed, so that no page
tells them whether a customer they may not see exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from kehu.core import policy
from kehu.loans.models import Loan, LoanStatus

BORROWED = "borrowed"
LENT = "lent"


def _lent_q(user) -> Q | None:
    return policy.lender_filter(user)


def loans(user, side: str = "") -> QuerySet[Loan]:
    """The loans `user` may see, on one side ("borrowed", "lent") or both ("")."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Loan.objects.none()
    borrowed = Q(borrower_id=user.pk)
    lent = _lent_q(user)
    qs = Loan.objects.select_related("customer", "customer__owner", "borrower",
                                     "borrower__team", "decided_by", "ended_by")
    if side == BORROWED:
        return qs.filter(borrowed)
    if side == LENT:
        return qs if lent is None else qs.filter(lent)
    return qs if lent is None else qs.filter(borrowed | lent)


def get_loan(user, pk) -> Loan:
    """The loan if the user may see it; Loan.DoesNotExist otherwise (404 for callers)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Loan.DoesNotExist from None
    return loans(user).get(pk=pk)


def side_of(user, loan: Loan) -> str:
    """From which side the user looks at `loan`: deciders see everything about it."""
    if policy.may_decide_loan(user, loan.customer) or (
            loan.customer_id is None and policy.is_admin(user)):
        return LENT
    return BORROWED


def shows_customer(user, loan: Loan) -> bool:
    """Whether the loan's customer may be named to `user`: always for those who decide on
    it; for the borrower once it was lent to them (they have read the card then)."""
    if loan.customer_id is None:
        return False
    return side_of(user, loan) == LENT or loan.was_lent


def to_decide(user, now: datetime | None = None) -> QuerySet[Loan]:
    """Open requests for customers the user decides on, oldest first."""
    return (loans(user, LENT).filter(customer__isnull=False).open_requests(now)
            .order_by("requested_at", "id"))


def lent_now(user, now: datetime | None = None) -> QuerySet[Loan]:
    """Loans of customers the user decides on that are running now, ending soonest first."""
    return loans(user, LENT).active(now).order_by("ends_at", "id")


def unseen_answers(user) -> QuerySet[Loan]:
    """The borrower's requests that were answered since they last looked."""
    return loans(user, BORROWED).filter(
        decided_at__isnull=False, seen_at__isnull=True,
        status__in=[LoanStatus.APPROVED, LoanStatus.REFUSED, LoanStatus.RETURNED,
                    LoanStatus.EXPIRED])


def card_loans(user, customer, now: datetime | None = None) -> dict:
    """What the customer card says about loans: the user's own loan of it, and for those
    who decide on it, who has it on loan now."""
    now = now or timezone.now()
    mine = Loan.objects.active(now).filter(customer=customer, borrower_id=user.pk).order_by(
        "-ends_at").first()
    out: dict = {"my_loan": mine, "lent_now": [], "loan_requests": 0}
    if policy.may_decide_loan(user, customer):
        out["lent_now"] = list(Loan.objects.active(now).filter(customer=customer)
                               .select_related("borrower").order_by("ends_at", "id"))
        out["loan_requests"] = Loan.objects.open_requests(now).filter(
            customer=customer).count()
    return out




# The register ------------------------------------------------------------------------------

@dataclass
class RegisterFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None


def register(user, filters: RegisterFilters | None = None,
             now: datetime | None = None) -> QuerySet[Loan]:
    """The register of loans (a report for managers and admins): every request and loan of
    the customers in the reader's charge — a manager's team, everything for admins
    (requests that matched no customer included) — newest first. A period keeps the loans
    asked for, running or ended within it."""
    if not policy.may_read_loan_register(user):
        return Loan.objects.none()
    f = filters or RegisterFilters()
    qs = loans(user, LENT)
    if f.status:
        qs = qs.with_status(f.status, now)
    if f.date_to:
        qs = qs.filter(requested_at__date__lte=f.date_to)
    if f.date_from:
        qs = qs.filter(Q(ended_at__date__gte=f.date_from)
                       | Q(ended_at__isnull=True, ends_at__isnull=True)
                       | Q(ended_at__isnull=True, ends_at__date__gte=f.date_from))
    return qs.order_by("-requested_at", "-id")
