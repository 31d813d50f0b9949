"""REST endpoints for loans of customer files: the loans you may see (asked for by you, or of
customers you decide on), asking for a customer, approving, refusing, and ending a loan or
withdrawing a request. Thin like views: parse, call a selector or service, shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.audit.services import record_list
from kehu.core.pagination import keyset_page
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    InputSchema,
    QueryParams,
    bounded_text,
    errors,
    refuse_unknown_query,
    username,
)
from kehu.loans import selectors, services
from kehu.loans.models import DEFAULT_DAYS, MAX_DAYS, REQUEST_OPEN_DAYS, Loan, LoanStatus

router = Router(tags=["loans"])

LoanIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]


class LoanIn(InputSchema):
    asked_for: bounded_text(services.ASKED_FOR_MAX, min_length=1) = Field(
        description="The customer's exact external id, name, phone number or e-mail address.")
    reason: bounded_text(services.REASON_MAX, min_length=1) = Field(
        description="Why you need the customer file; the owner reads it to decide.")
    days: Days = Field(DEFAULT_DAYS, description=f"How long the loan should last, 1 to "
                                                 f"{MAX_DAYS} days.")


class DecisionIn(InputSchema):
    days: Days | None = Field(None, description="Lend for this many days; default: as many "
                                                "as asked for.")
    note: bounded_text(services.NOTE_MAX) = Field("", description="A note to the borrower.")


class RefusalIn(InputSchema):
    note: bounded_text(services.NOTE_MAX) = Field("", description="A note to the borrower.")


class LoanOut(Schema):
    id: int
    side: Literal["borrowed", "lent"] = Field(
        description="borrowed: you asked for it; lent: a customer you decide on.")
    customer: int | None = Field(description="The customer's id: for the borrower only once "
                                             "it was lent to them, never before.")
    customer_name: str | None
    asked_for: str = Field(description="What the borrower typed to name the customer.")
    borrower: str
    reason: str
    days: int = Field(description="Days asked for.")
    status: Literal[tuple(LoanStatus.values)] = Field(
        description="As of now: a loan past its end date is expired, a request unanswered "
                    f"for {REQUEST_OPEN_DAYS} days lapsed.")
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str
    starts_at: datetime | None
    ends_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None


class LoanPage(Schema):
    items: list[LoanOut]
    next_cursor: str | None
    count: int = Field(description="Matching loans, counted exactly.")
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class LoanListParams(QueryParams):
    side: Literal["", "borrowed", "lent"] = Field(
        "", description="borrowed: yours; lent: of customers you decide on; empty: both.")
    status: Literal[("", *LoanStatus.values)] = ""
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def loan_out(user, loan: Loan, now: datetime | None = None) -> dict[str, Any]:
    shown = selectors.shows_customer(user, loan)
    return {
        "id": loan.pk, "side": selectors.side_of(user, loan),
        "customer": loan.customer_id if shown else None,
        "customer_name": loan.customer.name if shown else None,
        "asked_for": loan.asked_for, "borrower": loan.borrower.username,
        "reason": loan.reason, "days": loan.days, "status": loan.status_at(now),
        "requested_at": loan.requested_at, "decided_by": username(loan.decided_by),
        "decided_at": loan.decided_at, "note": loan.note, "starts_at": loan.starts_at,
        "ends_at": loan.ends_at, "ended_at": loan.ended_at,
        "ended_by": username(loan.ended_by),
    }


def _loan(request: HttpRequest, pk: int) -> Loan:
    services.close_ended_loans()
    return selectors.get_loan(request.auth, pk)


@router.get("/loans", response={200: LoanPage, **errors(422)})
def list_loans(request: HttpRequest, params: Query[LoanListParams]):
    """Loans you asked for and loans of the customers you decide on (as their owner, a
    manager of the owner's team, or an admin), newest first. Reading the customers they
    name is recorded in the audit log."""
    refuse_unknown_query(request, LoanListParams)
    now = timezone.now()
    services.close_ended_loans(now)
    qs = selectors.loans(request.auth, params.side)
    if params.status:
        qs = qs.with_status(params.status, now)
    page = keyset_page(qs, sort="requested_at", descending=True, cursor=params.cursor or None,
                       limit=params.limit)
    items = [loan_out(request.auth, loan, now) for loan in page.items]
    record_list(request.auth, "loans",
                [item["customer"] for item in items if item["customer"] is not None],
                filters=params.model_dump(exclude={"cursor", "limit"}), **_audit(request))
    return {"items": items, "next_cursor": page.next_cursor, "count": page.count,
            "count_is_exact": page.count_is_exact}


@router.post("/loans", response={201: LoanOut, **errors(400, 403, 422)})
def request_loan(request: HttpRequest, payload: LoanIn):
    """Ask to read a customer you cannot see. The answer is the same whether or not such a
    customer exists; its owner (or a manager of the owner's team) decides. A customer you
    can already see is refused with 400 naming it."""
    loan = services.request_loan(request.auth, payload.asked_for, payload.reason,
                                 payload.days, **_audit(request))
    return Status(201, loan_out(request.auth, loan))


@router.post("/loans/{loan_id}/approve", response={200: LoanOut, **errors(400, 403, 404, 422)})
def approve_loan(request: HttpRequest, loan_id: LoanIdPath, payload: DecisionIn):
    """Lend the customer file, read-only, from now for `days` days."""
    loan = services.approve_loan(request.auth, _loan(request, loan_id), days=payload.days,
                                 note=payload.note, **_audit(request))
    return loan_out(request.auth, loan)


@router.post("/loans/{loan_id}/refuse", response={200: LoanOut, **errors(400, 403, 404, 422)})
def refuse_loan(request: HttpRequest, loan_id: LoanIdPath, payload: RefusalIn):
    """Refuse the request. The borrower sees the refusal (and so learns that the customer
    exists); an unanswered request lapses by itself."""
    loan = services.refuse_loan(request.auth, _loan(request, loan_id), note=payload.note,
                                **_audit(request))
    return loan_out(request.auth, loan)


@router.post("/loans/{loan_id}/return", response={200: LoanOut, **errors(400, 403, 404, 422)})
def return_loan(request: HttpRequest, loan_id: LoanIdPath):
    """End a running loan early (the borrower, or whoever decides on the customer), or
    withdraw a request nobody has answered yet (the borrower)."""
    loan = services.end_loan(request.auth, _loan(request, loan_id), **_audit(request))
    return loan_out(request.auth, loan)
