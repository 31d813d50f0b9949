"""Web pages for loans of customer files: the borrower's loans and the request form, the
requests to decide, one loan with its decision, and the register for managers. Thin: parse,
call a selector or service, render."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.pagination import keyset_page
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.loans import selectors, services
from kehu.loans.forms import LoanDecisionForm, LoanRequestForm, RegisterFilterForm
from kehu.loans.models import Loan, LoanStatus

PAGE_SIZE = 100
_MAX_ID = 2**63 - 1
MY_LOANS_SHOWN = 200


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _loan(request: HttpRequest, pk: int) -> Loan:
    if pk > _MAX_ID:
        raise Http404
    try:
        return selectors.get_loan(request.user, pk)
    except Loan.DoesNotExist:
        raise Http404 from None


def _row(user, loan: Loan, now) -> dict:
    """A loan as `user` may see it (the borrower does not learn which customer a request
    matched until it is lent)."""
    return {"loan": loan, "status": loan.status_at(now), "label": loan.status_label(now),
            "customer": loan.customer if selectors.shows_customer(user, loan) else None,
            "side": selectors.side_of(user, loan)}


def _record_read(request: HttpRequest, rows: list[dict], filters=None) -> None:
    """A page of loans that names customers is a read of their files: one audit row."""
    ids = [row["customer"].pk for row in rows if row["customer"] is not None]
    if ids:
        record_list(request.user, "loans", ids, filters=filters, **_audit(request))


def _context(request: HttpRequest, loans_page: str, **extra) -> dict:
    return {"nav": "loans", "loans_page": loans_page,
            "may_read_register": policy.may_read_loan_register(request.user), **extra}


@login_required
def my_loans(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    services.close_ended_loans(now)
    new = set(selectors.unseen_answers(user).values_list("pk", flat=True))
    rows = [_row(user, loan, now) for loan in selectors.loans(user, selectors.BORROWED)
            .order_by("-requested_at", "-id")[:MY_LOANS_SHOWN]]
    for row in rows:
        row["new"] = row["loan"].pk in new
    if new:
        services.mark_answers_seen(user, now=now)
    _record_read(request, rows)
    return render(request, "loans/mine.html", _context(request, "mine", rows=rows))


@login_required
def request_loan(request: HttpRequest) -> HttpResponse:
    form = LoanRequestForm(request.POST or None)
    already = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_loan(request.user, data["asked_for"], data["reason"],
                                  data["days"], **_audit(request))
        except services.AlreadyVisible as e:
            already = e.customers
            form.add_error("asked_for", e.message)
        except ServiceError as e:
            apply_service_error(form, e)
        else:
            # The same answer whether or not a customer matched (no existence oracle).
            messages.success(request, _("Your request was sent. The answer will appear on "
                                        "this page."))
            return redirect("loans:mine")
    return render(request, "loans/request.html", _context(request, "request", form=form,
                                                          already=already),
                  status=400 if request.method == "POST" else 200)


@login_required
def to_decide(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    services.close_ended_loans(now)
    requests = [_row(user, loan, now) for loan in selectors.to_decide(user, now)]
    running = [_row(user, loan, now) for loan in selectors.lent_now(user, now)]
    _record_read(request, requests + running)
    return render(request, "loans/decide.html", _context(request, "decide", requests=requests,
                                                         running=running))


def _render_detail(request: HttpRequest, loan: Loan, form=None, status: int = 200):
    user = request.user
    now = timezone.now()
    row = _row(user, loan, now)
    if request.method == "GET":
        _record_read(request, [row])
    decidable = (row["side"] == selectors.LENT and row["status"] == LoanStatus.REQUESTED
                 and policy.may_decide_loan(user, loan.customer))
    if decidable and form is None:
        form = LoanDecisionForm(initial={"days": loan.days})
    is_borrower = loan.borrower_id == user.pk
    return render(request, "loans/detail.html", _context(
        request, "decide" if row["side"] == selectors.LENT else "mine", row=row,
        form=form if decidable else None,
        may_withdraw=is_borrower and row["status"] == LoanStatus.REQUESTED,
        may_return=row["status"] == LoanStatus.APPROVED and (
            is_borrower or policy.may_decide_loan(user, loan.customer))),
        status=status)


@login_required
def loan_detail(request: HttpRequest, loan_pk: int) -> HttpResponse:
    services.close_ended_loans()
    return _render_detail(request, _loan(request, loan_pk))


def _decide(request: HttpRequest, loan_pk: int, approve: bool) -> HttpResponse:
    loan = _loan(request, loan_pk)
    form = LoanDecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if approve:
                loan = services.approve_loan(request.user, loan, days=data["days"],
                                             note=data["note"], **_audit(request))
                messages.success(request, _("Lent to %(who)s until %(until)s.") % {
                    "who": loan.borrower,
                    "until": timezone.localtime(loan.ends_at).strftime("%Y-%m-%d %H:%M")})
            else:
                loan = services.refuse_loan(request.user, loan, note=data["note"],
                                            **_audit(request))
                messages.success(request, _("Request refused; %(who)s will see your answer.")
                                 % {"who": loan.borrower})
        except ServiceError as e:
            if e.field in form.fields:
                apply_service_error(form, e)
            else:
                messages.error(request, e.message)
                return redirect("loans:detail", loan.pk)
        else:
            return redirect("loans:decide")
    return _render_detail(request, loan, form, status=400)


@login_required
@require_POST
def approve(request: HttpRequest, loan_pk: int) -> HttpResponse:
    return _decide(request, loan_pk, approve=True)


@login_required
@require_POST
def refuse(request: HttpRequest, loan_pk: int) -> HttpResponse:
    return _decide(request, loan_pk, approve=False)


@login_required
@require_POST
def end(request: HttpRequest, loan_pk: int) -> HttpResponse:
    """Give a borrowed file back (or take it back), or withdraw an open request."""
    loan = _loan(request, loan_pk)
    try:
        loan = services.end_loan(request.user, loan, **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        if loan.status == LoanStatus.WITHDRAWN:
            messages.success(request, _("Request withdrawn."))
        else:
            messages.success(request, _("The loan has ended."))
    return redirect("loans:detail", loan.pk)


# The register ------------------------------------------------------------------------------

def _register_form(request: HttpRequest) -> RegisterFilterForm:
    if not policy.may_read_loan_register(request.user):
        raise Http404
    return RegisterFilterForm(request.GET or None)


@login_required
def register(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = _register_form(request)
    now = timezone.now()
    services.close_ended_loans(now)
    qs = selectors.register(user, form.filters(), now)
    cursor = form.cleaned_data.get("cursor") if form.is_bound and form.is_valid() else None
    page = keyset_page(qs, sort="requested_at", descending=True, cursor=cursor or None,
                       limit=PAGE_SIZE)
    if page.cursor_refused:
        # A cursor that cannot be a position in this list gave the first page.
        messages.warning(request, _("That page link is no longer valid; showing the first "
                                    "page."))
        cursor = None
    params = form.query()
    rows = [_row(user, loan, now) for loan in page.items]
    _record_read(request, rows, params)
    return render(request, "loans/register.html", _context(
        request, "register", form=form, page=page, rows=rows,
        csv_url=reverse("loans:register_csv") + ("?" + urlencode(params) if params else ""),
        first_url="?" + urlencode(params) if cursor else "",
        next_url="?" + urlencode({**params, "cursor": page.next_cursor})
        if page.next_cursor else ""),
        status=400 if form.is_bound and not form.is_valid() else 200)


@login_required
def register_csv(request: HttpRequest) -> HttpResponse:
    form = _register_form(request)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Correct the filters first."))
        return redirect(reverse("loans:register") + "?" + request.GET.urlencode())
    header, rows = services.export_register(request.user, form.filters(), **_audit(request))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="kehu-loans-{stamp}.csv"'
    return response
