"""REST endpoints for customers and what hangs off them: contacts, transactions, lifecycle,
owners and the change history. Thin like views: parse, call a selector or service, shape.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.models import User
from kehu.audit.services import record_list, used_filters
from kehu.core.pagination import keyset_page
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
    input_schema,
    input_type,
    output_schema,
    refuse_unknown_query,
    username,
)
from kehu.customers import selectors, services
from kehu.customers.models import (
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    CustomerNature,
    LifecycleState,
    LifecycleTransition,
    ServiceGroup,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from kehu.customers.search import QUERY_MAX_LENGTH

router = Router()

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Field(ge=1, le=200)]
StateType = Literal[tuple(LifecycleState.values)]
Reason = bounded_text(300)
LineDescription = bounded_text(200)
Number = bounded_text(50)
Notes = bounded_text(300)

CUSTOMER_FIELDS = services.CUSTOMER_FIELDS
CONTACT_FIELDS = services.CONTACT_FIELDS


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def _customer(request: HttpRequest, pk: int) -> Customer:
    """The customer if the token's user may see it; DoesNotExist (404) otherwise."""
    return selectors.get_customer(request.auth, pk)


def _user(pk: int, field: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: _("Unknown or inactive user.")})
    return user


# Schemas ----------------------------------------------------------------------------------

CustomerIn = input_schema(
    "CustomerIn", Customer, CUSTOMER_FIELDS, required=("name",),
    extra={
        "owner": (Id | None, Field(None, description="User id of the owner; default: you.")),
        "lifecycle_state": (StateType, Field(LifecycleState.POTENTIAL,
                                             description="Initial lifecycle state.")),
    },
    doc="A new customer. Sensitive fields may be sent only by users in the sensitive tier.",
)
CustomerPatch = input_schema(
    "CustomerPatch", Customer, CUSTOMER_FIELDS,
    extra={"version": (Annotated[int, Field(ge=1, le=2**31 - 1)], Field(
        ..., description="The version you read; a stale one is refused with 409."))},
    doc="Fields to change; fields left out keep their value.",
)
CustomerOut = output_schema(
    "CustomerOut", Customer, CUSTOMER_FIELDS, optional=SENSITIVE_CUSTOMER_FIELDS,
    extra={
        "id": (int, ...),
        "lifecycle_state": (str, ...),
        "state_locked": (bool, Field(..., description="The lifecycle state was set by hand "
                                                      "and locked: the value refresh keeps "
                                                      "it.")),
        "owner": (int, Field(..., description="User id of the owner.")),
        "owner_username": (str, ...),
        "team": (int | None, ...),
        "version": (int, ...),
        "created_at": (datetime, ...),
        "updated_at": (datetime, ...),
    },
    doc="A customer data card. Sensitive fields are absent for users outside the sensitive "
        "tier.",
)


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int = Field(description="Matching customers, counted exactly.")
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class CustomerListParams(QueryParams):
    q: bounded_text(QUERY_MAX_LENGTH) = Field(
        "", description="Name, pinyin, initials, phone or e-mail; a longer search is refused "
                        "with 422.")
    state: Literal[("", *LifecycleState.values)] = ""
    owner: Id | None = None
    team: Id | None = None
    nature: Literal[("", *CustomerNature.values)] = ""
    service_group: Literal[("", *ServiceGroup.values)] = ""
    segment: Literal[("", *(v for v, _l in selectors.value_choices("segment")))] = Field(
        "", description="Value segment.")
    quadrant: Literal[("", *(v for v, _l in selectors.value_choices("quadrant")))] = Field(
        "", description="Volume × loyalty.")
    p_alive_min: float | None = Field(None, ge=0, le=1)
    p_alive_max: float | None = Field(None, ge=0, le=1)
    clv_min: decimal_number(16, 2) | None = None
    clv_max: decimal_number(16, 2) | None = None
    at_risk: bool = False
    sort: Literal[tuple(selectors.SORTS)] = "name"
    desc: bool = False
    cursor: Cursor = ""
    limit: Limit = 50


class OwnerIn(InputSchema):
    owner: Id = Field(description="User id of the new owner.")
    reason: Reason = ""
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="The version you read, to refuse the change if it is stale.")


class OwnerAssignmentOut(Schema):
    owner: int
    owner_username: str
    started_at: datetime
    ended_at: datetime | None
    assigned_by: str | None
    reason: str


class LifecycleIn(InputSchema):
    state: StateType
    reason: Reason = ""
    lock_reason: Reason = Field("", description="With a reason, the state is also locked: "
                                                "the value refresh keeps it until unlocked.")
    lock_until: date | None = Field(None, description="The lock ends after this day "
                                                      "(needs lock_reason).")


class LifecycleOut(Schema):
    id: int
    from_state: str
    to_state: str
    at: datetime
    by: str | None
    reason: str
    source: str


class ChangeOut(Schema):
    field: str | None
    label: str
    old: Any = None
    new: Any = None
    hidden: bool


class HistoryOut(Schema):
    at: datetime
    user: str | None
    reason: str
    type: str
    changes: list[ChangeOut]


ContactIn = input_schema("ContactIn", Contact, CONTACT_FIELDS, required=("name",))
ContactPatch = input_schema(
    "ContactPatch", Contact, CONTACT_FIELDS,
    extra={"version": (Annotated[int, Field(ge=1, le=2**31 - 1)], Field(
        ..., description="The version you read; a stale one is refused with 409."))},
)
ContactOut = output_schema(
    "ContactOut", Contact, CONTACT_FIELDS, optional=SENSITIVE_CONTACT_FIELDS,
    extra={"id": (int, ...), "customer": (int, ...), "version": (int, ...),
           "created_at": (datetime, ...), "updated_at": (datetime, ...)},
    doc="A contact person. Sensitive fields are absent for users outside the sensitive tier.",
)


def _money(field: str) -> Any:
    return input_type(Transaction._meta.get_field(field))


def _line(field: str) -> Any:
    return input_type(TransactionLine._meta.get_field(field))


class LineIn(InputSchema):
    product: Id | None = Field(None, description="Product id; its prices are the defaults.")
    description: LineDescription = ""
    quantity: _line("quantity") = Decimal("1")
    unit_price: _line("unit_price") | None = None
    unit_cost: _line("unit_cost") | None = None


class TransactionIn(InputSchema):
    kind: Literal[tuple(TransactionKind.values)] = TransactionKind.ORDER
    date: date
    amount: _money("amount") | None = Field(
        None, description="Required without lines; with lines it is their sum.")
    cost: _money("cost") = Decimal("0")
    number: Number = ""
    notes: Notes = ""
    lines: list[LineIn] = Field(default_factory=list, max_length=1000)


class LineOut(Schema):
    id: int
    product: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    amount: Decimal
    cost: Decimal


class TransactionOut(Schema):
    id: int
    customer: int
    number: str
    kind: str
    date: date
    amount: Decimal = Field(description="Negative for returns.")
    cost: Decimal
    gross_profit: Decimal
    notes: str
    created_by: str | None
    created_at: datetime


class TransactionDetailOut(TransactionOut):
    lines: list[LineOut]


class TransactionPage(Schema):
    items: list[TransactionOut]
    next_cursor: str | None
    count: int
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class TransactionListParams(QueryParams):
    customer: Id | None = None
    date_from: date | None = None
    date_to: date | None = None
    cursor: Cursor = ""
    limit: Limit = 50


# Shaping ----------------------------------------------------------------------------------

def customer_out(user: User, customer: Customer) -> dict[str, Any]:
    """The card as the user may see it: sensitive fields are left out, not nulled, so that a
    client cannot mistake 'hidden' for 'empty'."""
    data: dict[str, Any] = {"id": customer.pk}
    data.update((field, getattr(customer, field)) for field in CUSTOMER_FIELDS
                if user.sees_sensitive or field not in SENSITIVE_CUSTOMER_FIELDS)
    data.update(lifecycle_state=customer.lifecycle_state,
                state_locked=selectors.state_locked(user, customer),
                owner=customer.owner_id, owner_username=customer.owner.username,
                team=customer.team_id, version=customer.version,
                created_at=customer.created_at, updated_at=customer.updated_at)
    return data


def contact_out(user: User, contact: Contact) -> dict[str, Any]:
    hidden = selectors.visible_contact_fields(user)
    data: dict[str, Any] = {"id": contact.pk}
    data.update((field, getattr(contact, field)) for field in CONTACT_FIELDS
                if field not in hidden)
    data.update(customer=contact.customer_id, version=contact.version,
                created_at=contact.created_at, updated_at=contact.updated_at)
    return data


def transaction_out(txn: Transaction, *, lines: bool = False) -> dict[str, Any]:
    data = {"id": txn.pk, "customer": txn.customer_id, "number": txn.number, "kind": txn.kind,
            "date": txn.date, "amount": txn.amount, "cost": txn.cost,
            "gross_profit": txn.gross_profit, "notes": txn.notes,
            "created_by": username(txn.created_by), "created_at": txn.created_at}
    if lines:
        data["lines"] = [
            {"id": ln.pk, "product": ln.product_id, "description": ln.description,
             "quantity": ln.quantity, "unit_price": ln.unit_price, "unit_cost": ln.unit_cost,
             "amount": ln.amount, "cost": ln.cost}
            for ln in txn.lines.order_by("pk")
        ]
    return data


def _page(page, shape) -> dict[str, Any]:
    return {"items": [shape(item) for item in page.items], "next_cursor": page.next_cursor,
            "count": page.count, "count_is_exact": page.count_is_exact}


# Customers --------------------------------------------------------------------------------

@router.get("/customers", response={200: CustomerPage, **errors(422)}, exclude_unset=True,
            tags=["customers"])
def list_customers(request: HttpRequest, params: Query[CustomerListParams]):
    """Customers you may see, a page at a time (keyset pagination: follow `next_cursor`).
    Reading them is recorded in the audit log: one entry naming the customers shown and the
    filter."""
    refuse_unknown_query(request, CustomerListParams)
    filters = selectors.CustomerFilters(**params.model_dump(
        exclude={"sort", "desc", "cursor", "limit"}))
    page = selectors.customer_page(request.auth, filters, sort=params.sort,
                                   descending=params.desc, cursor=params.cursor or None,
                                   limit=params.limit)
    record_list(request.auth, "customers", [c.pk for c in page.items], filters=filters,
                **_audit(request))
    return _page(page, lambda c: customer_out(request.auth, c))


@router.post("/customers", response={201: CustomerOut, **errors(400, 403, 422)},
             exclude_unset=True, tags=["customers"])
def create_customer(request: HttpRequest, payload: CustomerIn):
    data = payload.model_dump(exclude_unset=True, exclude={"owner", "lifecycle_state"})
    owner = _user(payload.owner, "owner") if payload.owner is not None else None
    customer = services.create_customer(request.auth, data, owner=owner,
                                        state=payload.lifecycle_state, **_audit(request))
    return Status(201, customer_out(request.auth, customer))


@router.get("/customers/{id}", response={200: CustomerOut, **errors(404, 422)},
            exclude_unset=True, tags=["customers"])
def get_customer(request: HttpRequest, id: IdPath):
    """One customer's card. Reading it is recorded in the audit log."""
    customer = _customer(request, id)
    services.record_customer_view(request.auth, customer, **_audit(request))
    return customer_out(request.auth, customer)


@router.patch("/customers/{id}", response={200: CustomerOut, **errors(400, 403, 404, 409, 422)},
              exclude_unset=True, tags=["customers"])
def update_customer(request: HttpRequest, id: IdPath, payload: CustomerPatch):
    """Change the fields sent. `version` must be the one you read, or the answer is 409."""
    customer = _customer(request, id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    customer = services.update_customer(request.auth, customer, data,
                                        expected_version=payload.version, **_audit(request))
    return customer_out(request.auth, customer)


@router.delete("/customers/{id}", response={204: None, **errors(400, 403, 404, 422)},
               tags=["customers"])
def delete_customer(request: HttpRequest, id: IdPath):
    """Managers and admins only; a customer with transactions cannot be deleted."""
    services.delete_customer(request.auth, _customer(request, id), **_audit(request))
    return Status(204, None)


@router.get("/customers/{id}/owner", response={200: list[OwnerAssignmentOut], **errors(404, 422)},
            tags=["customers"])
def owner_history(request: HttpRequest, id: IdPath):
    """Who was responsible for the customer, and when (newest first). Reading it is
    recorded in the audit log."""
    customer = _customer(request, id)
    services.record_customer_view(request.auth, customer, part="owner", **_audit(request))
    return [{"owner": a.owner_id, "owner_username": a.owner.username, "started_at": a.started_at,
             "ended_at": a.ended_at, "assigned_by": username(a.assigned_by), "reason": a.reason}
            for a in selectors.owner_history(request.auth, customer)]


@router.post("/customers/{id}/owner",
             response={200: CustomerOut, **errors(400, 403, 404, 409, 422)},
             exclude_unset=True, tags=["customers"])
def change_owner(request: HttpRequest, id: IdPath, payload: OwnerIn):
    """Hand the customer to another user, with the reason recorded."""
    customer = _customer(request, id)
    new_owner = _user(payload.owner, "owner")
    customer = services.change_owner(request.auth, customer, new_owner, reason=payload.reason,
                                     expected_version=payload.version, **_audit(request))
    return customer_out(request.auth, customer)


@router.get("/customers/{id}/history", response={200: list[HistoryOut], **errors(404, 422)},
            tags=["customers"])
def customer_history(request: HttpRequest, id: IdPath):
    """Field-level changes of the card, newest first; sensitive values are hidden outside the
    sensitive tier. Reading it is recorded in the audit log."""
    customer = _customer(request, id)
    services.record_customer_view(request.auth, customer, part="history", **_audit(request))
    names = {str(f.verbose_name): f.name for f in Customer._meta.concrete_fields}
    return [
        {"at": entry["at"], "user": username(entry["user"]), "reason": entry["reason"],
         "type": entry["type"],
         "changes": [{"field": names.get(str(ch["field"])), "label": str(ch["field"]),
                      "old": ch["old"], "new": ch["new"], "hidden": ch["hidden"]}
                     for ch in entry["changes"]]}
        for entry in selectors.change_history(request.auth, customer)
    ]


# Lifecycle --------------------------------------------------------------------------------

def _transition_out(t: LifecycleTransition) -> dict[str, Any]:
    return {"id": t.pk, "from_state": t.from_state, "to_state": t.to_state, "at": t.at,
            "by": username(t.by), "reason": t.reason, "source": t.source}


@router.get("/customers/{id}/lifecycle", response={200: list[LifecycleOut], **errors(404, 422)},
            tags=["lifecycle"])
def lifecycle_history(request: HttpRequest, id: IdPath):
    """The customer's lifecycle transitions, newest first. Reading them is recorded in the
    audit log."""
    customer = _customer(request, id)
    services.record_customer_view(request.auth, customer, part="lifecycle", **_audit(request))
    return [_transition_out(t) for t in selectors.lifecycle_history(request.auth, customer)]


@router.post("/customers/{id}/lifecycle",
             response={200: CustomerOut, **errors(400, 403, 404, 422)}, exclude_unset=True,
             tags=["lifecycle"])
def set_lifecycle_state(request: HttpRequest, id: IdPath, payload: LifecycleIn):
    """Move the customer to a lifecycle state; the transition is recorded with the reason."""
    customer = _customer(request, id)
    customer = services.set_lifecycle_state(request.auth, customer, payload.state,
                                            reason=payload.reason,
                                            lock_reason=payload.lock_reason,
                                            lock_until=payload.lock_until, **_audit(request))
    return customer_out(request.auth, customer)


@router.delete("/customers/{id}/lifecycle/lock",
               response={200: CustomerOut, **errors(400, 403, 404, 422)}, exclude_unset=True,
               tags=["lifecycle"])
def unlock_lifecycle_state(request: HttpRequest, id: IdPath):
    """Unlock the customer's lifecycle state: the next value refresh derives it from
    behaviour again (400 if it is not locked)."""
    customer = _customer(request, id)
    services.unlock_lifecycle_state(request.auth, customer, **_audit(request))
    return customer_out(request.auth, customer)


# Contacts ---------------------------------------------------------------------------------

def _contact(request: HttpRequest, pk: int) -> Contact:
    return selectors.contacts(request.auth).get(pk=pk)


@router.get("/customers/{id}/contacts", response={200: list[ContactOut], **errors(404, 422)},
            exclude_unset=True, tags=["contacts"])
def list_contacts(request: HttpRequest, id: IdPath):
    customer = _customer(request, id)
    services.record_customer_view(request.auth, customer, part="contacts", **_audit(request))
    return [contact_out(request.auth, c)
            for c in selectors.contacts(request.auth).filter(customer=customer)]


@router.post("/customers/{id}/contacts",
             response={201: ContactOut, **errors(400, 403, 404, 422)}, exclude_unset=True,
             tags=["contacts"])
def create_contact(request: HttpRequest, id: IdPath, payload: ContactIn):
    customer = _customer(request, id)
    contact = services.create_contact(request.auth, customer,
                                      payload.model_dump(exclude_unset=True), **_audit(request))
    return Status(201, contact_out(request.auth, contact))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **errors(404, 422)},
            exclude_unset=True, tags=["contacts"])
def get_contact(request: HttpRequest, contact_id: IdPath):
    contact = _contact(request, contact_id)
    services.record_customer_view(request.auth, contact.customer, part="contacts",
                                  **_audit(request))
    return contact_out(request.auth, contact)


@router.patch("/contacts/{contact_id}",
              response={200: ContactOut, **errors(400, 403, 404, 409, 422)}, exclude_unset=True,
              tags=["contacts"])
def update_contact(request: HttpRequest, contact_id: IdPath, payload: ContactPatch):
    contact = _contact(request, contact_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    contact = services.update_contact(request.auth, contact, data,
                                      expected_version=payload.version, **_audit(request))
    return contact_out(request.auth, contact)


@router.delete("/contacts/{contact_id}", response={204: None, **errors(403, 404, 422)},
               tags=["contacts"])
def delete_contact(request: HttpRequest, contact_id: IdPath):
    services.delete_contact(request.auth, _contact(request, contact_id), **_audit(request))
    return Status(204, None)


# Transactions -----------------------------------------------------------------------------

def _transactions_page(request: HttpRequest, qs, params: TransactionListParams,
                       customer: Customer | None = None) -> dict:
    refuse_unknown_query(request, TransactionListParams)
    if params.date_from:
        qs = qs.filter(date__gte=params.date_from)
    if params.date_to:
        qs = qs.filter(date__lte=params.date_to)
    page = keyset_page(qs.select_related("created_by"), sort="date", descending=True,
                       cursor=params.cursor or None, limit=params.limit)
    filters = params.model_dump(include={"customer", "date_from", "date_to"})
    if customer is not None:
        services.record_customer_view(request.auth, customer, part="transactions",
                                      detail={"filter": used_filters(filters)},
                                      **_audit(request))
    else:
        record_list(request.auth, "transactions", [t.customer_id for t in page.items],
                    filters=filters, **_audit(request))
    return _page(page, transaction_out)


@router.get("/transactions", response={200: TransactionPage, **errors(422)},
            tags=["transactions"])
def list_transactions(request: HttpRequest, params: Query[TransactionListParams]):
    """Transactions of the customers you may see, newest first. Reading them is recorded
    in the audit log, naming the customers shown."""
    qs = selectors.transactions(request.auth)
    if params.customer:
        qs = qs.filter(customer_id=params.customer)
    return _transactions_page(request, qs, params)


@router.get("/customers/{id}/transactions",
            response={200: TransactionPage, **errors(404, 422)}, tags=["transactions"])
def customer_transactions(request: HttpRequest, id: IdPath,
                          params: Query[TransactionListParams]):
    """The customer's transactions, newest first. Reading them is recorded in the audit
    log."""
    customer = _customer(request, id)
    qs = selectors.transactions(request.auth).filter(customer=customer)
    return _transactions_page(request, qs, params, customer)


@router.post("/customers/{id}/transactions",
             response={201: TransactionDetailOut, **errors(400, 403, 404, 422)},
             tags=["transactions"])
def create_transaction(request: HttpRequest, id: IdPath, payload: TransactionIn):
    """Record an order, invoice or return. A return is stored with negative amounts."""
    customer = _customer(request, id)
    lines = [line.model_dump(exclude_none=True) for line in payload.lines]
    txn = services.create_transaction(
        request.auth, customer, date=payload.date, amount=payload.amount, cost=payload.cost,
        kind=payload.kind, number=payload.number, notes=payload.notes, lines=lines,
        **_audit(request))
    return Status(201, transaction_out(txn, lines=True))


@router.get("/transactions/{transaction_id}",
            response={200: TransactionDetailOut, **errors(404, 422)}, tags=["transactions"])
def get_transaction(request: HttpRequest, transaction_id: IdPath):
    """One transaction with its lines. Reading it is recorded in the audit log."""
    txn = selectors.transactions(request.auth).select_related("created_by").get(
        pk=transaction_id)
    services.record_customer_view(request.auth, txn.customer, part="transactions",
                                  detail={"transaction": txn.pk}, **_audit(request))
    return transaction_out(txn, lines=True)


@router.delete("/transactions/{transaction_id}", response={204: None, **errors(403, 404, 422)},
               tags=["transactions"])
def delete_transaction(request: HttpRequest, transaction_id: IdPath):
    txn = selectors.transactions(request.auth).get(pk=transaction_id)
    services.delete_transaction(request.auth, txn, **_audit(request))
    return Status(204, None)

