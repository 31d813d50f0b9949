"""Every write to loans of customer files: ask, approve, refuse, withdraw, return, and the
closing of loans whose time is up. Each is one transaction and is audited.

How a user asks for a customer they cannot see, without learning whether it exists
-------------------------------------------------------------------------------------
They cannot find it in the customer list (it is scoped), so they type what they already know
from a caller or a letter: the customer's exact external id, name, phone number or e-mail
address. kehu looks for it among all customers — here, and only here, unscoped — and:

- if it is a customer the user may already see, says so and links to it (nothing secret:
  they can open it anyway);
- otherwise it stores the request and answers "request sent", the same words, status and
  page whether or not a customer matched. A request that matched exactly one customer goes
  to its owner and the managers of the owner's team; one that matched none, or several
  (kehu cannot tell whose approval is needed, and saying so would tell the user that
  several exist), reaches nobody. The borrower sees only what they typed until a loan is
  granted; every request nobody answers lapses after REQUEST_OPEN_DAYS days, so a request
  that matched nothing looks, from the borrower's side, exactly like one the owner left
  unanswered.
- Refusing does tell the borrower that somebody decided, and so that the customer exists;
  the decision page says so, and leaving the request to lapse is the discreet answer.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import customer_set, record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import VIEW, restrict
from kehu.customers.models import Customer
from kehu.customers.search import normalise as search_key
from kehu.customers.search_index import matching
from kehu.dataio import normalise as norm
from kehu.loans import selectors
from kehu.loans.models import (
    DEFAULT_DAYS,
    MAX_DAYS,
    MAX_OPEN_REQUESTS,
    Loan,
    LoanStatus,
)

ASKED_FOR_MAX = 200
REASON_MAX = 500
NOTE_MAX = 500
# Candidates the search index offers for a phone number, e-mail or name, checked exactly.
_CANDIDATES = 500
_PHONE = re.compile(r"[+()\d\s\-（）]{5,40}")


class AlreadyVisible(ServiceError):
    """What the user asked for is a customer they may already see: no loan is needed."""

    def __init__(self, customers: list[Customer]):
        names = "”、“".join(c.name for c in customers[:3])
        super().__init__(_("You can already see this customer: “%(names)s”.") % {"names": names},
                         field="asked_for")
        self.customers = customers


def _text(value, field: str, max_length: int, *, required: bool, label: str) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise ServiceError(_("%(label)s contains a character that cannot be stored.")
                           % {"label": label}, field=field)
    if required and not text:
        raise ServiceError(_("%(label)s is required.") % {"label": label}, field=field)
    if len(text) > max_length:
        raise ServiceError(_("%(label)s is at most %(n)d characters long.")
                           % {"label": label, "n": max_length}, field=field)
    return text


def _days(value, field: str = "days") -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ServiceError(_("Enter a whole number of days."), field=field) from None
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError(_("A loan lasts from 1 to %(max)d days.") % {"max": MAX_DAYS},
                           field=field)
    return days


def matching_customers(asked_for: str) -> list[int]:
    """Ids of the customers whose external id, name, phone number or e-mail address is
    exactly `asked_for` (names and e-mail addresses regardless of case and width, phone
    numbers regardless of punctuation and +86). Firm-wide on purpose, and never shown to
    the asker: it only decides where a request goes."""
    text = asked_for.strip()
    found: set[int] = set(Customer.objects.filter(Q(external_id=text) | Q(name=text))
                          .values_list("pk", flat=True)[:_CANDIDATES])
    key = search_key(text)
    phone = norm.phone(text) if _PHONE.fullmatch(text) else ""
    if len(re.sub(r"\D", "", phone)) >= 5:
        # The last eight digits are in every way of writing the number: +86 21 …, 021-…
        for pk, p, m in matching(Customer.objects.all(), phone[-8:]).values_list(
                "pk", "phone", "mobile")[:_CANDIDATES]:
            if phone in (norm.phone(p), norm.phone(m)):
                found.add(pk)
    elif key:
        for pk, name, email in matching(Customer.objects.all(), text).values_list(
                "pk", "name", "email")[:_CANDIDATES]:
            if search_key(name) == key or (email and norm.email(email) == norm.email(text)):
                found.add(pk)
    return sorted(found)


@transaction.atomic
def request_loan(user: User, asked_for: str, reason: str, days=DEFAULT_DAYS, *,
                 now: datetime | None = None, ip: str | None = None,
                 via: str = "web") -> Loan:
    """Ask to read a customer outside one's scope. The answer is the same stored request
    whether or not a customer matched (see the module's docstring)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotPermitted(_("Sign in to ask for a customer file."))
    now = now or timezone.now()
    asked_for = _text(asked_for, "asked_for", ASKED_FOR_MAX, required=True,
                      label=_("The customer you need"))
    reason = _text(reason, "reason", REASON_MAX, required=True, label=_("The reason"))
    days = _days(days)
    open_requests = Loan.objects.open_requests(now).filter(borrower=user)
    key = search_key(asked_for)
    for earlier in open_requests:
        if search_key(earlier.asked_for) == key:
            raise ServiceError(_("You already asked for “%(what)s” on %(date)s; wait for the "
                                 "answer or withdraw that request first.")
                               % {"what": earlier.asked_for,
                                  "date": timezone.localtime(earlier.requested_at)
                                  .strftime("%Y-%m-%d")}, field="asked_for")
    if open_requests.count() >= MAX_OPEN_REQUESTS:
        raise ServiceError(_("You have %(n)d requests waiting for an answer; wait for them or "
                             "withdraw some before asking again.") % {"n": MAX_OPEN_REQUESTS})
    matches = matching_customers(asked_for)
    visible = list(restrict(Customer.objects.filter(pk__in=matches), user, VIEW)
                   .order_by("name", "pk")[:3])
    if visible:
        raise AlreadyVisible(visible)
    customer_id = matches[0] if len(matches) == 1 else None
    loan = Loan.objects.create(customer_id=customer_id, matched=customer_id is not None,
                               borrower=user, asked_for=asked_for, reason=reason, days=days,
                               requested_at=now)
    record(user, "loan.request", obj=loan, ip=ip, via=via,
           detail={"days": days, "matched": loan.matched})
    return loan


def _locked(loan: Loan) -> Loan:
    return (Loan.objects.select_for_update(of=("self",)).select_related("customer", "borrower")
            .get(pk=loan.pk))


def _decidable(user: User, loan: Loan, now: datetime) -> Loan:
    current = _locked(loan)
    if not policy.may_decide_loan(user, current.customer):
        raise NotPermitted(_("Only the customer's owner, a manager of the owner's team or an "
                             "admin may answer this request."))
    if current.status_at(now) != LoanStatus.REQUESTED:
        raise ServiceError(_("This request is no longer open: %(status)s.")
                           % {"status": current.status_label(now)})
    return current


@transaction.atomic
def approve_loan(user: User, loan: Loan, *, days=None, note: str = "",
                 now: datetime | None = None, ip: str | None = None,
                 via: str = "web") -> Loan:
    """Lend the customer file: the borrower may read it, and nothing more, from now for
    `days` days (by default as many as they asked for)."""
    now = now or timezone.now()
    current = _decidable(user, loan, now)
    days = _days(current.days if days in (None, "") else days)
    note = _text(note, "note", NOTE_MAX, required=False, label=_("The note"))
    current.status = LoanStatus.APPROVED
    current.decided_by, current.decided_at, current.note = user, now, note
    current.starts_at, current.ends_at = now, now + timedelta(days=days)
    current.save(update_fields=["status", "decided_by", "decided_at", "note", "starts_at",
                                "ends_at"])
    record(user, "loan.approve", obj=current, ip=ip, via=via, detail={
        "borrower": current.borrower.username, "days": days,
        "until": current.ends_at.isoformat()})
    return current


@transaction.atomic
def refuse_loan(user: User, loan: Loan, *, note: str = "", now: datetime | None = None,
                ip: str | None = None, via: str = "web") -> Loan:
    now = now or timezone.now()
    current = _decidable(user, loan, now)
    note = _text(note, "note", NOTE_MAX, required=False, label=_("The note"))
    current.status = LoanStatus.REFUSED
    current.decided_by, current.decided_at, current.note = user, now, note
    current.ended_at, current.ended_by = now, user
    current.save(update_fields=["status", "decided_by", "decided_at", "note", "ended_at",
                                "ended_by"])
    record(user, "loan.refuse", obj=current, ip=ip, via=via,
           detail={"borrower": current.borrower.username})
    return current


@transaction.atomic
def withdraw_loan_request(user: User, loan: Loan, *, now: datetime | None = None,
                          ip: str | None = None, via: str = "web") -> Loan:
    """The borrower takes back a request nobody has answered yet."""
    now = now or timezone.now()
    current = _locked(loan)
    if current.borrower_id != getattr(user, "pk", None):
        raise NotPermitted(_("Only the person who asked may withdraw a request."))
    if current.status_at(now) != LoanStatus.REQUESTED:
        raise ServiceError(_("This request is no longer open: %(status)s.")
                           % {"status": current.status_label(now)})
    current.status, current.ended_at, current.ended_by = LoanStatus.WITHDRAWN, now, user
    current.save(update_fields=["status", "ended_at", "ended_by"])
    record(user, "loan.withdraw", obj=current, ip=ip, via=via)
    return current


@transaction.atomic
def return_loan(user: User, loan: Loan, *, now: datetime | None = None,
                ip: str | None = None, via: str = "web") -> Loan:
    """End a running loan before its end date: the borrower gives the file back, or the
    owner, a manager of the owner's team or an admin takes it back."""
    now = now or timezone.now()
    current = _locked(loan)
    if current.borrower_id != getattr(user, "pk", None) and not policy.may_decide_loan(
            user, current.customer):
        raise NotPermitted(_("Only the borrower, the customer's owner, a manager of the "
                             "owner's team or an admin may end this loan."))
    if current.status_at(now) != LoanStatus.APPROVED:
        raise ServiceError(_("This loan is not running: %(status)s.")
                           % {"status": current.status_label(now)})
    current.status, current.ended_at, current.ended_by = LoanStatus.RETURNED, now, user
    current.save(update_fields=["status", "ended_at", "ended_by"])
    record(user, "loan.return", obj=current, ip=ip, via=via, detail={
        "borrower": current.borrower.username})
    return current


@transaction.atomic
def end_loan(user: User, loan: Loan, *, now: datetime | None = None, ip: str | None = None,
             via: str = "web") -> Loan:
    """What "give it back" means for this loan: a running loan is returned, an open request
    is withdrawn."""
    now = now or timezone.now()
    if Loan.objects.filter(pk=loan.pk).open_requests(now).exists():
        return withdraw_loan_request(user, loan, now=now, ip=ip, via=via)
    return return_loan(user, loan, now=now, ip=ip, via=via)


@transaction.atomic
def close_ended_loans(now: datetime | None = None, *, limit: int = 500) -> int:
    """Write down what the clock already says (access has ended at the end date whether or
    not this runs): loans past their end date are ended, requests nobody answered in time
    have lapsed. Each is audited once, as the expiry being noticed. Runs when loans are
    listed, so that no cron is needed."""
    now = now or timezone.now()
    closed = 0
    ended = (Loan.objects.select_for_update(of=("self",)).select_related("borrower")
             .filter(status=LoanStatus.APPROVED, ends_at__lte=now).order_by("ends_at")[:limit])
    for loan in ended:
        loan.status, loan.ended_at = LoanStatus.EXPIRED, loan.ends_at
        loan.save(update_fields=["status", "ended_at"])
        record(None, "loan.expire", obj=loan, via="system", detail={
            "borrower": loan.borrower.username, "until": loan.ends_at.isoformat()})
        closed += 1
    lapsed = (Loan.objects.select_for_update(of=("self",)).select_related("borrower")
              .with_status(LoanStatus.LAPSED, now).filter(status=LoanStatus.REQUESTED)
              .order_by("requested_at")[:limit])
    for loan in lapsed:
        loan.status, loan.ended_at = LoanStatus.LAPSED, loan.lapses_at
        loan.save(update_fields=["status", "ended_at"])
        record(None, "loan.lapse", obj=loan, via="system",
               detail={"borrower": loan.borrower.username})
        closed += 1
    return closed


@transaction.atomic
def mark_answers_seen(user: User, *, now: datetime | None = None) -> int:
    """The borrower has seen the answers to their requests (on their loans page)."""
    return Loan.objects.filter(borrower_id=getattr(user, "pk", None), decided_at__isnull=False,
                               seen_at__isnull=True).update(seen_at=now or timezone.now())


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@transaction.atomic
def export_register(user: User, filters: selectors.RegisterFilters | None = None, *,
                    now: datetime | None = None, ip: str | None = None,
                    via: str = "web") -> tuple[list[str], list[list[str]]]:
    """The register of loans as rows for a CSV file (header, rows); the export is audited.
    Text typed by users is guarded so that a spreadsheet does not run it as a formula."""
    if not policy.may_read_loan_register(user):
        raise NotPermitted(_("The register of loans is for managers and admins."))
    now = now or timezone.now()
    filters = filters or selectors.RegisterFilters()
    header = [_("Loan"), _("Customer id"), _("Customer"), _("Customer asked for"),
              _("Borrower"), _("Borrower's team"), _("Reason"), _("Days asked for"),
              _("Status"), _("Asked at"), _("Decided by"), _("Decided at"), _("Note"),
              _("From"), _("Until"), _("Ended at"), _("Ended by")]
    rows, customer_ids = [], []
    for loan in selectors.register(user, filters, now):
        if loan.customer_id:
            customer_ids.append(loan.customer_id)
        rows.append([norm.guard_formula(str(v)) for v in (
            loan.pk, loan.customer_id or "", loan.customer.name if loan.customer else "",
            loan.asked_for, loan.borrower.username, loan.borrower.team or "", loan.reason,
            loan.days, loan.status_label(now), _when(loan.requested_at),
            loan.decided_by.username if loan.decided_by else "", _when(loan.decided_at),
            loan.note, _when(loan.starts_at), _when(loan.ends_at), _when(loan.ended_at),
            loan.ended_by.username if loan.ended_by else "")])
    record(user, "export.loans", ip=ip, via=via, detail={
        "rows": len(rows), "status": filters.status,
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
        **customer_set(customer_ids)})
    return header, rows
