"""REST endpoints of credit control: receivables with their payments, and a customer's credit
status. Scoped like customers (a record out of reach answers 404 like a missing one); all of
it is the sensitive tier, so a user whose scope reaches it but who may not see the tier gets
403. Every read is recorded in the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.audit.services import record_list
from kehu.core.pagination import keyset_page
from kehu.core.permissions import CHANGE
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    Id,
    InputSchema,
    QueryParams,
    bounded_text,
    decimal_number,
    errors,
    refuse_unknown_query,
    username,
)
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.sales.credit import selectors, services
from kehu.sales.credit.figures import BUCKET_CODES, in_bucket
from kehu.sales.credit.models import IncidentKind, Payment, PaymentMethod, Receivable

router = Router(tags=["receivables"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Money = decimal_number(14, 2)
Number = bounded_text(50)
Notes = bounded_text(300)
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Day = dt.date


class ReceivableIn(InputSchema):
    customer: Id
    number: Number = ""
    issued_on: Day
    due_on: Day | None = Field(None, description="Default: the invoice date plus the "
                                                  "customer's payment terms (or 30 days).")
    amount: Money = Field(description="More than zero.")
    transaction: Id | None = Field(None, description="Id of the customer's order or invoice "
                                                     "this receivable is for.")
    notes: Notes = ""


class ReceivablePatch(InputSchema):
    version: Version | None = Field(
        None, description="The version you read, to refuse the change if it is stale (409).")
    number: Number | None = None
    issued_on: Day | None = None
    due_on: Day | None = None
    amount: Money | None = None
    notes: Notes | None = None


class PaymentIn(InputSchema):
    paid_on: Day
    amount: Money = Field(description="More than zero, at most what is open.")
    method: Literal[tuple(PaymentMethod.values)] = PaymentMethod.TRANSFER
    reference: bounded_text(100) = ""


class PaymentOut(Schema):
    id: int
    receivable: int
    customer: int
    paid_on: dt.date
    amount: Decimal
    method: str
    reference: str
    recorded_by: str | None
    created_at: dt.datetime


class ReceivableOut(Schema):
    id: int
    customer: int
    transaction: int | None
    number: str
    issued_on: dt.date
    due_on: dt.date
    amount: Decimal
    paid: Decimal
    open: Decimal
    paid_on: dt.date | None
    days_overdue: int
    bucket: str
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ReceivablePage(Schema):
    items: list[ReceivableOut]
    next_cursor: str | None
    count: int
    count_is_exact: bool


class ReceivableListParams(QueryParams):
    customer: Id | None = None
    owner: Id | None = None
    team: Id | None = None
    status: Literal["", "open", "overdue", "paid"] = Field(
        "", description="open: something is still owed; overdue: open and past due; paid: "
                        "settled in full.")
    bucket: Literal[("", *BUCKET_CODES)] = Field(
        "", description="Ageing bucket of open receivables on today's date.")
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class PaymentPage(Schema):
    items: list[PaymentOut]


class AgeingOut(Schema):
    bucket: str
    open: Decimal
    count: int


class PunctualityOut(Schema):
    invoices_due: int
    paid_on_time: int
    late: int
    share_on_time_percent: Decimal | None
    average_days_late: Decimal | None


class IncidentOut(Schema):
    id: int
    kind: str
    occurred_on: dt.date
    description: str
    evidence: str
    recorded_by: str | None


class FlagOut(Schema):
    id: int
    subject: str
    transaction: int | None
    reference: str
    amount: Decimal
    open_receivables: Decimal
    exposure: Decimal
    credit_limit: Decimal
    created_at: dt.datetime


class CreditOut(Schema):
    customer: int
    credit_limit: Decimal | None
    payment_terms_days: int | None
    open: Decimal
    overdue: Decimal
    exposure: Decimal
    over_limit: bool
    ageing: list[AgeingOut]
    punctuality: PunctualityOut
    incidents: list[IncidentOut]
    flags: list[FlagOut]


class IncidentIn(InputSchema):
    kind: Literal[tuple(IncidentKind.values)]
    occurred_on: Day
    description: bounded_text(4000, min_length=1)
    evidence: bounded_text(300) = ""


def receivable_out(r: Receivable, today: dt.date) -> dict[str, Any]:
    days = (today - r.due_on).days
    return {"id": r.pk, "customer": r.customer_id, "transaction": r.transaction_id,
            "number": r.number, "issued_on": r.issued_on, "due_on": r.due_on,
            "amount": r.amount, "paid": r.paid, "open": r.open_amount, "paid_on": r.paid_on,
            "days_overdue": max(0, days) if r.open_amount > 0 else 0,
            "bucket": selectors.bucket_of(days) if r.open_amount > 0 else "",
            "notes": r.notes, "version": r.version, "created_at": r.created_at,
            "updated_at": r.updated_at}


def payment_out(p: Payment, customer_id: int) -> dict[str, Any]:
    return {"id": p.pk, "receivable": p.receivable_id, "customer": customer_id,
            "paid_on": p.paid_on, "amount": p.amount, "method": p.method,
            "reference": p.reference, "recorded_by": username(p.recorded_by),
            "created_at": p.created_at}


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


@router.get("/receivables", response={200: ReceivablePage, **errors(403, 422)})
def list_receivables(request: HttpRequest, params: Query[ReceivableListParams]):
    """Receivables of the customers you may see, oldest due date first (keyset pagination:
    follow `next_cursor`). The sensitive tier: 403 without it. Reading is audited."""
    refuse_unknown_query(request, ReceivableListParams)
    selectors.require_credit(request.auth)
    today = timezone.localdate()
    qs = selectors.receivables(request.auth)
    used = {k: v for k, v in params.model_dump(exclude={"cursor", "limit"}).items() if v}
    if params.customer:
        qs = qs.filter(customer_id=params.customer)
    if params.owner:
        qs = qs.filter(customer__owner_id=params.owner)
    if params.team:
        qs = qs.filter(customer__team_id=params.team)
    if params.status == "open":
        qs = qs.filter(paid__lt=F("amount"))
    elif params.status == "overdue":
        qs = qs.filter(paid__lt=F("amount"), due_on__lt=today)
    elif params.status == "paid":
        qs = qs.filter(paid__gte=F("amount"))
    if params.bucket:
        qs = in_bucket(qs, params.bucket, today)
    page = keyset_page(qs, sort="due_on", cursor=params.cursor or None, limit=params.limit)
    record_list(request.auth, "receivables", [r.customer_id for r in page.items],
                filters=used, **_audit(request))
    return {"items": [receivable_out(r, today) for r in page.items],
            "next_cursor": page.next_cursor, "count": page.count,
            "count_is_exact": page.count_is_exact}


@router.post("/receivables", response={201: ReceivableOut, **errors(400, 403, 404, 422)})
def create_receivable(request: HttpRequest, payload: ReceivableIn):
    """Record an invoice a customer owes. An order or invoice it names must be the
    customer's."""
    customer = get_customer(request.auth, payload.customer)
    receivable = services.create_receivable(
        request.auth, customer, number=payload.number, issued_on=payload.issued_on,
        due_on=payload.due_on, amount=payload.amount, notes=payload.notes,
        transaction_id=payload.transaction, **_audit(request))
    return Status(201, receivable_out(receivable, timezone.localdate()))


@router.get("/receivables/{receivable_id}",
            response={200: ReceivableOut, **errors(403, 404, 422)})
def get_receivable(request: HttpRequest, receivable_id: IdPath):
    """One receivable. Reading it is recorded in the audit log."""
    receivable = selectors.get_receivable(request.auth, receivable_id)
    record_customer_view(request.auth, receivable.customer, part="credit",
                         detail={"receivable": receivable.pk}, **_audit(request))
    return receivable_out(receivable, timezone.localdate())


@router.patch("/receivables/{receivable_id}",
              response={200: ReceivableOut, **errors(400, 403, 404, 409, 422)})
def update_receivable(request: HttpRequest, receivable_id: IdPath, payload: ReceivablePatch):
    """Correct the fields sent. `version` must be the one you read, or the answer is 409."""
    receivable = selectors.get_receivable(request.auth, receivable_id, CHANGE)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    for name, value in data.items():
        if value is None:
            raise ValidationError({name: _("This field cannot be empty.")})
    receivable = services.update_receivable(request.auth, receivable, data,
                                            version=payload.version, **_audit(request))
    return receivable_out(receivable, timezone.localdate())


@router.get("/receivables/{receivable_id}/payments",
            response={200: PaymentPage, **errors(403, 404, 422)})
def list_payments(request: HttpRequest, receivable_id: IdPath):
    """The payments against a receivable, oldest first. Reading them is audited."""
    receivable = selectors.get_receivable(request.auth, receivable_id)
    record_customer_view(request.auth, receivable.customer, part="credit",
                         detail={"receivable": receivable.pk}, **_audit(request))
    rows = selectors.payments(request.auth).filter(receivable=receivable)
    return {"items": [payment_out(p, receivable.customer_id) for p in rows]}


@router.post("/receivables/{receivable_id}/payments",
             response={201: PaymentOut, **errors(400, 403, 404, 422)})
def record_payment(request: HttpRequest, receivable_id: IdPath, payload: PaymentIn):
    """Record a payment (partial payments allowed; more than is open is refused with 422).
    Settling the last overdue invoice closes the owner's collection task."""
    receivable = selectors.get_receivable(request.auth, receivable_id, CHANGE)
    payment = services.record_payment(
        request.auth, receivable, paid_on=payload.paid_on, amount=payload.amount,
        method=payload.method, reference=payload.reference, **_audit(request))
    return Status(201, payment_out(payment, receivable.customer_id))


@router.get("/customers/{id}/credit", response={200: CreditOut, **errors(403, 404, 422)},
            tags=["receivables"])
def customer_credit(request: HttpRequest, id: IdPath):
    """A customer's credit status: limit, terms, open and overdue amounts, ageing,
    punctuality over the last 12 months, incidents and credit-limit flags. Audited."""
    customer = get_customer(request.auth, id)
    selectors.require_credit(request.auth)
    summary = selectors.credit_summary(request.auth, customer)
    record_customer_view(request.auth, customer, part="credit", **_audit(request))
    p = summary.punctuality
    return {
        "customer": customer.pk, "credit_limit": summary.credit_limit,
        "payment_terms_days": summary.payment_terms_days, "open": summary.open_total,
        "overdue": summary.overdue_total, "exposure": summary.check.exposure,
        "over_limit": summary.check.over_limit,
        "ageing": [{"bucket": b, "open": a, "count": n} for b, a, n in summary.ageing],
        "punctuality": {"invoices_due": p.due, "paid_on_time": p.on_time, "late": p.late,
                        "share_on_time_percent": p.share_on_time,
                        "average_days_late": p.average_days_late},
        "incidents": [{"id": i.pk, "kind": i.kind, "occurred_on": i.occurred_on,
                       "description": i.description, "evidence": i.evidence,
                       "recorded_by": username(i.recorded_by)} for i in summary.incidents],
        "flags": [{"id": f.pk, "subject": f.subject, "transaction": f.transaction_id,
                   "reference": f.reference, "amount": f.amount,
                   "open_receivables": f.open_receivables, "exposure": f.exposure,
                   "credit_limit": f.credit_limit, "created_at": f.created_at}
                  for f in summary.flags],
    }


@router.post("/customers/{id}/credit-incidents",
             response={201: IncidentOut, **errors(400, 403, 404, 422)}, tags=["receivables"])
def record_credit_incident(request: HttpRequest, id: IdPath, payload: IncidentIn):
    """Record a credit incident (late payment, dumping below price, selling outside their
    territory, other) with a reference to its evidence."""
    customer = get_customer(request.auth, id, CHANGE)
    incident = services.record_credit_incident(
        request.auth, customer, kind=payload.kind, occurred_on=payload.occurred_on,
        description=payload.description, evidence=payload.evidence, **_audit(request))
    return Status(201, {"id": incident.pk, "kind": incident.kind,
                        "occurred_on": incident.occurred_on,
                        "description": incident.description, "evidence": incident.evidence,
                        "recorded_by": username(incident.recorded_by)})
