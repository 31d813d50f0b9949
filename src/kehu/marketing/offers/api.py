"""REST endpoints of one-to-one offers: offer lists (list, build for a customer, read, and
update: redeem the list's coupon against a transaction) and sending a list by e-mail,
print or export. Scoped like customers: a list is seen by who sees its customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import NotPermitted
from kehu.core.pagination import keyset_page
from kehu.core.permissions import EXPORT, can
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    Id,
    InputSchema,
    QueryParams,
    errors,
    refuse_unknown_query,
)
from kehu.customers.selectors import get_customer, transactions
from kehu.customers.services import record_customer_view
from kehu.marketing.offers import selectors, services
from kehu.marketing.offers.models import OfferList, SendChannel
from kehu.marketing.offers.texts import item_reason

router = Router(tags=["offers"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class OfferItemOut(Schema):
    position: int
    kind: str = Field(description="due: due again by the customer's own rhythm; suggested: "
                                  "bought by customers who buy the same products.")
    product: int
    product_code: str
    product_name: str
    price: Decimal = Field(description="The product's price when the list was built.")
    due_on: dt.date | None
    rhythm_days: int | None = Field(description="Usual days between purchases (due items).")
    purchase_days: int | None
    last_bought: dt.date | None
    because: int | None = Field(description="The customer's product that speaks for a "
                                            "suggested item.")
    share: float | None = Field(description="Of `because`'s buyers, the share who also "
                                            "bought this product.")
    co_buyers: int | None
    reason: str = Field(description="Why it is on the list, in the reader's language.")


class CouponOut(Schema):
    code: str
    tier: str
    discount_percent: int
    min_order: Decimal
    valid_from: dt.date
    valid_until: dt.date
    redeemed_transaction: int | None
    redeemed_on: dt.date | None
    discount_amount: Decimal | None


class SendOut(Schema):
    channel: str
    status: str
    recipient: str
    note: str
    at: dt.datetime


class OfferListOut(Schema):
    id: int
    customer: int
    as_of: dt.date
    valid_until: dt.date
    spend: Decimal = Field(description="Net purchases in the spend period.")
    items: list[OfferItemOut]
    coupon: CouponOut | None
    sends: list[SendOut]
    created_at: dt.datetime


class OfferListPage(Schema):
    items: list[OfferListOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int
    count_is_exact: bool = Field(description="Always true: the count is exact.")


class OfferListParams(QueryParams):
    customer: Id | None = None
    as_of: dt.date | None = None
    coupon: Literal["", "with", "redeemed"] = ""
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class OfferListIn(InputSchema):
    customer: Id


class OfferListPatch(InputSchema):
    coupon_redeemed_with: Id = Field(
        ..., description="A transaction of the customer on which the list's coupon was "
                         "used: records the redemption.")


class SendIn(InputSchema):
    channel: Literal["print", "export"] = Field(
        "print", description="Recorded as handed over: printed, or exported to a file.")


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


def offer_list_out(o: OfferList) -> dict[str, Any]:
    coupon = getattr(o, "coupon", None)
    return {
        "id": o.pk, "customer": o.customer_id, "as_of": o.as_of,
        "valid_until": o.valid_until, "spend": o.spend, "created_at": o.created_at,
        "items": [{"position": i.position, "kind": i.kind, "product": i.product_id,
                   "product_code": i.product.code, "product_name": i.product.name,
                   "price": i.price, "due_on": i.due_on, "rhythm_days": i.rhythm_days,
                   "purchase_days": i.purchase_days, "last_bought": i.last_bought,
                   "because": i.because_id, "share": i.share, "co_buyers": i.co_buyers,
                   "reason": item_reason(i)} for i in o.items.all()],
        "coupon": None if coupon is None else {
            "code": coupon.code, "tier": coupon.tier_label,
            "discount_percent": coupon.discount_percent, "min_order": coupon.min_order,
            "valid_from": coupon.valid_from, "valid_until": coupon.valid_until,
            "redeemed_transaction": coupon.redeemed_transaction_id,
            "redeemed_on": coupon.redeemed_on, "discount_amount": coupon.discount_amount},
        "sends": [{"channel": s.channel, "status": s.status, "recipient": s.recipient,
                   "note": s.note, "at": s.at} for s in o.sends.all()],
    }


def _read(request: HttpRequest, pk: int) -> OfferList:
    return selectors.get_offer_list(request.auth, pk)


@router.get("/offers", response={200: OfferListPage, **errors(422)})
def list_offers(request: HttpRequest, params: Query[OfferListParams]):
    """Offer lists of the customers you may see, newest first, a page at a time. Reading
    them is recorded in the audit log."""
    refuse_unknown_query(request, OfferListParams)
    filters = selectors.OfferListFilters(as_of=params.as_of, coupon=params.coupon)
    qs = selectors.filter_offer_lists(request.auth,
                                      selectors.offer_lists_with_items(request.auth), filters)
    if params.customer is not None:
        qs = qs.filter(customer_id=params.customer)
    page = keyset_page(qs, sort="id", descending=True, cursor=params.cursor or None,
                       limit=params.limit)
    record_list(request.auth, "offer_lists", [o.customer_id for o in page.items],
                filters={**filters.__dict__, "customer": params.customer}, **_audit(request))
    return {"items": [offer_list_out(o) for o in page.items],
            "next_cursor": page.next_cursor, "count": page.count,
            "count_is_exact": page.count_is_exact}


@router.post("/offers", response={201: OfferListOut, **errors(400, 403, 404, 422)})
def create_offer(request: HttpRequest, payload: OfferListIn):
    """Build a new offer list for one customer now (marketing, managers, admins): the
    products they are due to buy again and those customers like them buy, at current
    prices, with a coupon by loyalty. Refused for a customer who refused personalisation,
    and when there is nothing to offer."""
    customer = get_customer(request.auth, payload.customer)
    offer_list = services.build_offer_list(request.auth, customer, **_audit(request))
    return Status(201, offer_list_out(_read(request, offer_list.pk)))


@router.get("/offers/{offer_id}", response={200: OfferListOut, **errors(404, 422)})
def get_offer(request: HttpRequest, offer_id: IdPath):
    """One offer list with its items, coupon and sends. Reading it is recorded in the audit
    log."""
    offer_list = _read(request, offer_id)
    record_customer_view(request.auth, offer_list.customer, part="offers",
                         detail={"offer_list": offer_list.pk}, **_audit(request))
    return offer_list_out(offer_list)


@router.patch("/offers/{offer_id}",
              response={200: OfferListOut, **errors(400, 403, 404, 422)})
def update_offer(request: HttpRequest, offer_id: IdPath, payload: OfferListPatch):
    """Record that the list's coupon was used on one of the customer's transactions."""
    offer_list = _read(request, offer_id)
    coupon = getattr(offer_list, "coupon", None)
    if coupon is None:
        raise ValidationError({"coupon_redeemed_with": _("This offer list has no coupon.")})
    txn = transactions(request.auth).filter(pk=payload.coupon_redeemed_with,
                                            customer=offer_list.customer).first()
    if txn is None:
        raise ValidationError({"coupon_redeemed_with": _(
            "No such transaction of this customer.")})
    services.redeem_coupon(request.auth, coupon.code, txn, **_audit(request))
    return offer_list_out(_read(request, offer_id))


@router.post("/offers/{offer_id}/send",
             response={200: SendOut, **errors(400, 403, 404, 422)})
def send_offer(request: HttpRequest, offer_id: IdPath, payload: SendIn):
    """Record the list as printed or exported."""
    offer_list = _read(request, offer_id)
    if payload.channel == SendChannel.EXPORT and not (
            policy.may_export(request.auth)
            and can(request.auth, EXPORT, offer_list.customer)):
        raise NotPermitted(_("You may not export this customer's data."))
    send = services.record_offer_output(request.auth, offer_list, payload.channel,
                                        **_audit(request))
    return {"channel": send.channel, "status": send.status, "recipient": send.recipient,
            "note": send.note, "at": send.at}
