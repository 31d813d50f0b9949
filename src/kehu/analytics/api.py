"""/api/v1/value/...: scores, segments, customer equity and the Markov migration, each over
the customers the token's user may see; starting a refresh for analysts and admins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError

from kehu.analytics import selectors, services
from kehu.analytics.models import ValueSegment
from kehu.analytics.rules import STATES
from kehu.audit.services import record, record_list
from kehu.core import jobs, policy
from kehu.core.errors import NotPermitted
from kehu.core.money import firm_currency
from kehu.core.requests import client_ip
from kehu.core.schemas import MAX_ID, QueryParams, errors, refuse_unknown_query
from kehu.customers.models import LifecycleState
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view

router = Router(tags=["value"])
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class ScoreOut(Schema):
    """A customer's value. Realised figures are since the first purchase, "_12m" ones over
    the 12 months to `as_of`; `net_contribution_12m` is the current value (segments, rank);
    `clv` is discounted expected profit over the remaining relationship (`horizon_months`),
    `clv_12m` its part in the next 12 months, `potential_value` equals `clv`."""

    customer: int
    as_of: date
    revenue: float
    gross_profit: float
    cost_to_serve: float
    relationship_investment: float
    net_contribution: float
    revenue_12m: float
    gross_profit_12m: float
    cost_to_serve_12m: float
    relationship_investment_12m: float
    net_contribution_12m: float
    purchase_days: int
    first_purchase: date | None
    last_purchase: date | None
    p_alive: float | None
    expected_purchases: float | None
    horizon_months: int
    margin: float | None
    clv: float | None
    clv_12m: float | None
    potential_value: float | None
    influence_value: float
    rfm: str
    value_rank: int | None
    value_percentile: float | None
    segment: str
    quadrant: str
    lookalike: float | None
    at_risk: bool
    loyalty_index: float | None
    loyalty_behaviour: float | None
    loyalty_attitude: float | None
    currency: str = Field(description="ISO 4217 code of the firm's currency, the unit of "
                                      "every amount here (set on /value/settings/).")


class ValueItem(Schema):
    customer: int
    lifecycle_state: str
    p_alive: float | None
    clv: float | None
    clv_12m: float | None
    loyalty_index: float | None
    segment: str
    quadrant: str
    at_risk: bool
    state_locked: bool


class ValuePage(Schema):
    count: int = Field(description="How many customers match, exactly.")
    items: list[ValueItem]


class ValueListParams(QueryParams):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=2**31 - 1)
    state: Literal[("", *LifecycleState.values)] = ""
    segment: Literal[("", *ValueSegment.values)] = ""


class OfferOut(Schema):
    product: int
    code: str
    name: str
    price: float = Field(description="The product's current unit price.")
    because: int = Field(description="The customer's product that speaks for this one most.")
    because_code: str
    because_name: str
    share: float = Field(description="Of the buyers of `because`, the share who bought this "
                                     "product (0-1).")
    co_buyers: int = Field(description="Customers who bought both.")
    reason: str = Field(description="One sentence in the request's language.")


class OffersOut(Schema):
    """What to offer the customer next, from what customers who bought the same products
    also bought: never a product the customer bought or returned, never an inactive one."""

    customer: int
    as_of: date | None = Field(description="The purchases the table was built from (the "
                                           "last value refresh); null before any.")
    currency: str = Field(description="ISO 4217 code of the firm's currency, the unit of "
                                      "the prices.")
    cross_sell: list[OfferOut]
    up_sell: list[OfferOut] = Field(description="Dearer related products.")


class RefreshOut(Schema):
    id: int
    as_of: date
    finished_at: datetime | None
    customers: int
    horizon_months: int
    monthly_discount: float
    fit: dict[str, Any]
    warnings: list[dict[str, str]]
    stale: bool
    model_selection: dict[str, Any] | None
    currency: str = Field(description="ISO 4217 code of the firm's currency, the unit of "
                                      "every amount here (set on /value/settings/).")


def _model_selection(run) -> dict[str, Any] | None:
    """The purchase models compared on the holdout: chosen (smallest holdout_error unless
    pinned), pinned, and per candidate its holdout_error, the two errors it combines,
    parameters, log-likelihood, fit time and predicted cumulative repeat purchases per
    period; basis: the day, buyers and purchase days the comparison was made on;
    kept_from: the refresh that made it, when this refresh kept its choice (null when this
    refresh compared); None for a refresh made before models were compared."""
    return run.model_selection or None


class CountOut(Schema):
    key: str
    label: str
    customers: int


class EquityPoint(Schema):
    month: date
    equity: float
    customers: int


class EquityOut(Schema):
    as_of: date
    trend: list[EquityPoint]
    by_segment: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    by_owner: list[dict[str, Any]]
    currency: str = Field(description="ISO 4217 code of the firm's currency, the unit of "
                                      "every amount here (set on /value/settings/).")


class MigrationOut(Schema):
    states: list[str]
    matrix: list[list[float]]
    observed: list[bool]
    customers_now: list[float]
    forecast: list[list[float]]
    equity_forecast: list[float]
    churn_by_segment: list[dict[str, Any]]


class JobOut(Schema):
    id: int
    status: str
    done: int
    total: int | None
    message: str


def _run(request: HttpRequest):
    if not policy.may_see_value_dashboard(request.auth):
        raise NotPermitted(_("Value reports are for sales, managers, analysts, marketing "
                             "and administrators."))
    run = selectors.latest_refresh()
    if run is None:
        raise Http404
    return run


def _num(value) -> float | None:
    return None if value is None else float(value)


@router.get("/value/customers", response={200: ValuePage, **errors(403, 422)})
def customer_values(request: HttpRequest, params: Query[ValueListParams]):
    """The value scores of the customers you may see, by customer id (`limit`, `offset`),
    optionally of one lifecycle state or value segment; `count` is exact. Reading them is
    recorded in the audit log: one entry naming the customers shown and the filter."""
    refuse_unknown_query(request, ValueListParams)
    if not policy.may_see_customer_values(request.auth):
        raise NotPermitted(_("Sign in to see customers' value."))
    qs = selectors.customer_values(request.auth, state=params.state, segment=params.segment)
    rows = list(qs[params.offset:params.offset + params.limit])
    filters = {k: v for k, v in (("state", params.state), ("segment", params.segment),
                                 ("offset", params.offset), ("limit", params.limit)) if v}
    record_list(request.auth, "value.customers", [v.customer_id for v in rows],
                filters=filters, ip=client_ip(request), via="api")
    return {"count": qs.count(), "items": [{
        "customer": v.customer_id, "lifecycle_state": v.customer.lifecycle_state,
        "p_alive": v.p_alive, "clv": _num(v.clv),
        # Discounted profit over twelve months, where the refresh computes it.
        "clv_12m": _num(getattr(v, "clv_12m", None)),
        "loyalty_index": v.loyalty_index, "segment": v.segment, "quadrant": v.quadrant,
        "at_risk": v.at_risk, "state_locked": bool(v.state_locked_now)} for v in rows]}


@router.get("/value/customers/{id}", response={200: ScoreOut, **errors(404)})
def customer_score(request: HttpRequest, id: IdPath):
    """A customer's latest value scores (404 if out of reach or not yet scored): `clv` is the
    discounted expected profit of the remaining relationship, `clv_12m` its next 12 months."""
    customer = get_customer(request.auth, id)
    try:
        v = customer.value
    except ObjectDoesNotExist:
        raise HttpError(404, _("This customer has no value scores yet: they appear after the "
                               "next value refresh.")) from None
    record(request.auth, "customer.view", obj=customer, ip=client_ip(request), via="api",
           detail={"part": "value"})
    return {
        "customer": customer.pk, "as_of": v.refresh.as_of, "revenue": float(v.revenue),
        "gross_profit": float(v.gross_profit), "cost_to_serve": float(v.cost_to_serve),
        "relationship_investment": float(v.relationship_investment),
        "net_contribution": float(v.net_contribution), "revenue_12m": float(v.revenue_12m),
        "gross_profit_12m": float(v.gross_profit_12m),
        "cost_to_serve_12m": float(v.cost_to_serve_12m),
        "relationship_investment_12m": float(v.relationship_investment_12m),
        "net_contribution_12m": float(v.net_contribution_12m),
        "purchase_days": v.purchase_days, "first_purchase": v.first_purchase,
        "last_purchase": v.last_purchase, "p_alive": v.p_alive,
        "expected_purchases": v.expected_purchases,
        "horizon_months": v.refresh.horizon_months, "margin": v.margin, "clv": _num(v.clv),
        "clv_12m": _num(v.clv_12m),
        "potential_value": _num(v.potential_value), "influence_value": float(v.influence_value),
        "rfm": v.rfm, "value_rank": v.value_rank, "value_percentile": v.value_percentile,
        "segment": v.segment, "quadrant": v.quadrant, "lookalike": v.lookalike,
        "at_risk": v.at_risk, "loyalty_index": v.loyalty_index,
        "loyalty_behaviour": v.loyalty_behaviour, "loyalty_attitude": v.loyalty_attitude,
        "currency": firm_currency().code}


def _offer(o) -> dict[str, Any]:
    return {"product": o.product.pk, "code": o.product.code, "name": o.product.name,
            "price": float(o.product.unit_price), "because": o.because.pk,
            "because_code": o.because.code, "because_name": o.because.name,
            "share": o.share, "co_buyers": o.co_buyers, "reason": o.reason}


@router.get("/value/customers/{id}/offers", response={200: OffersOut, **errors(404)})
def customer_offers(request: HttpRequest, id: IdPath):
    """Cross-sell and up-sell candidates for a customer (404 if out of reach): products
    only, each with the reason, as on the card's Value tab."""
    customer = get_customer(request.auth, id)
    offers = selectors.offers_for(request.auth, customer)
    if offers is None:
        raise Http404
    record_customer_view(request.auth, customer, ip=client_ip(request), via="api",
                         part="offers")
    return {"customer": customer.pk, "as_of": offers.as_of, "currency": firm_currency().code,
            "cross_sell": [_offer(o) for o in offers.cross_sell],
            "up_sell": [_offer(o) for o in offers.up_sell]}


@router.get("/value/refresh", response={200: RefreshOut, **errors(403, 404)})
def latest(request: HttpRequest):
    """The latest value refresh: fitted models, the purchase models compared on the holdout
    (model_selection), warnings, whether it is stale."""
    if not policy.may_see_value_models(request.auth):
        raise NotPermitted(_("How the value models were fitted is for managers, analysts, "
                             "marketing and administrators."))
    run = _run(request)
    return {"id": run.pk, "as_of": run.as_of, "finished_at": run.finished_at,
            "customers": run.customers, "horizon_months": run.horizon_months,
            "monthly_discount": float(run.monthly_discount), "fit": run.fit,
            "warnings": run.warnings, "stale": selectors.is_stale(run),
            "model_selection": _model_selection(run), "currency": firm_currency().code}


@router.post("/value/refresh", response={202: JobOut, **errors(403)})
def start_refresh(request: HttpRequest):
    """Start a refresh of every customer's value in the background (analysts and admins).
    Poll the returned job with GET /value/jobs/{id}."""
    job = services.start_refresh(request.auth)
    return Status(202, _job(job))


def _job(job) -> dict[str, Any]:
    job = jobs.overlay(job)
    return {"id": job.pk, "status": job.status, "done": job.done, "total": job.total,
            "message": job.message}


@router.get("/value/jobs/{job_id}", response={200: JobOut, **errors(404)})
def refresh_job(request: HttpRequest, job_id: IdPath):
    """A refresh job you started (admins: any)."""
    job = jobs.Job.objects.get(pk=job_id, kind=services.REFRESH_JOB)
    if not policy.may_see_job(request.auth, job.user_id):
        raise jobs.Job.DoesNotExist
    return _job(job)


@router.get("/value/segments", response={200: dict[str, list[CountOut]], **errors(403, 404)})
def segments(request: HttpRequest):
    """Customers in each value segment and volume × loyalty quadrant."""
    _run(request)
    return {"segments": selectors.segment_mix(request.auth),
            "quadrants": selectors.quadrant_mix(request.auth)}


@router.get("/value/equity", response={200: EquityOut, **errors(403, 404)})
def equity(request: HttpRequest):
    """Customer equity (Σ CLV, profit over the remaining relationship) by month, and now by
    segment, team and owner."""
    run = _run(request)
    user = request.auth
    return {"as_of": run.as_of, "trend": selectors.equity_trend(user, run),
            "by_segment": selectors.equity_by(user, run, "segment"),
            "by_team": selectors.equity_by(user, run, "team"),
            "by_owner": selectors.equity_by(user, run, "owner"),
            "currency": firm_currency().code}


@router.get("/value/migration", response={200: MigrationOut, **errors(403, 404)})
def migration(request: HttpRequest):
    """The monthly Markov transition matrix between lifecycle states, its 12-month forecast
    of the base and of equity, and the monthly churn rate of each value segment."""
    run = _run(request)
    m = selectors.migration(request.auth, run)
    if m is None:
        raise Http404
    return {"states": list(STATES), "matrix": m.chain.matrix.tolist(),
            "observed": m.chain.observed.tolist(), "customers_now": m.start.tolist(),
            "forecast": m.forecast.tolist(), "equity_forecast": m.equity.tolist(),
            "churn_by_segment": m.churn_by_segment}
