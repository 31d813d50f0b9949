"""The installed base in the sales forecast: what the existing customers are expected to buy
in each coming month, from the purchase model and the spend model of the latest value
refresh. Registered with kehu.sales.pipeline.forecast from AnalyticsConfig.ready() (sales sits
below analytics and cannot ask it).

For each customer with purchases, as at the refresh's date: frequency x (repeat purchase
days), recency and age T in the refresh's time unit, and the mean spend m of the repeat
purchase days. The expected purchases in a month are E[N(T, T + end)] − E[N(T, T + start)]
of the fitted model (BG/NBD, MBG/NBD or Pareto/NBD), where start and end are the month's
bounds measured from the refresh's date (a month, or the part of it, before that date
counts nothing: the figure looks forward from the refresh). The expected revenue is those
purchases × the customer's expected spend per purchase (Gamma-Gamma: p(v + x m)/(p x + q −
1)), added up over the customers and rounded to cents per month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import numpy as np
from django.db.models import F, QuerySet, Sum
from django.utils.translation import gettext as _

from kehu.analytics.models import CustomerValue
from kehu.analytics.selectors import latest_refresh
from kehu.customers.models import Transaction, TransactionKind
from kehu.sales.pipeline.forecast import InstalledBase

UNIT_DAYS = {"W": 7.0, "D": 1.0}


def _models(fit: dict):
    from kehu.value import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel

    classes = {c.model_name: c for c in (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel)}
    purchases = fit.get("purchases") or {}
    cls = classes.get(purchases.get("model"))
    model = cls.from_dict(purchases) if cls is not None else None
    spend = fit.get("gamma_gamma")
    return model, GammaGammaModel.from_dict(spend) if spend else None


def _empty(months: list[dt.date], note: str, as_of=None) -> InstalledBase:
    return InstalledBase([], [], as_of=as_of, note=note)


def expected_by_month(user, customers: QuerySet, months: list[dt.date]) -> InstalledBase:
    from kehu.value import ValueModelError

    run = latest_refresh()
    if run is None:
        return _empty(months, _("No value refresh has run yet, so the installed base has no "
                                "expected purchases."))
    try:
        model, spend_model = _models(run.fit or {})
    except ValueModelError as exc:
        return _empty(months, _("The value refresh's purchase model cannot be used: %(why)s")
                      % {"why": exc}, run.as_of)
    if model is None:
        return _empty(months, _("The latest value refresh fitted no purchase model."),
                      run.as_of)
    unit = UNIT_DAYS.get((run.fit or {}).get("time_unit", "W"), 7.0)
    as_of = run.as_of
    rows = list(CustomerValue.objects.filter(
        customer__in=customers, purchase_days__gt=0, first_purchase__isnull=False,
        last_purchase__isnull=False).order_by("customer_id").values_list(
        "customer_id", "purchase_days", "first_purchase", "last_purchase"))
    n = len(rows)
    if not n:
        return InstalledBase([0.0] * len(months), [Decimal(0)] * len(months), as_of=as_of)
    ids = [r[0] for r in rows]
    x = np.array([r[1] - 1 for r in rows], dtype=float)
    recency = np.array([(r[3] - r[2]).days for r in rows], dtype=float) / unit
    age = np.array([(as_of - r[2]).days for r in rows], dtype=float) / unit
    m = _repeat_spend(ids, x, as_of)
    bounds = [max(0, (mon - as_of).days) for mon in months]
    last = (months[-1] + dt.timedelta(days=32)).replace(day=1)
    bounds.append(max(0, (last - as_of).days))
    horizons = sorted({b for b in bounds if b > 0})
    try:
        curve = model.expected_purchases_curve(np.array(horizons, dtype=float) / unit,
                                               x, recency, age) if horizons else None
        spend = spend_model.expected_average_value(x, m) if spend_model is not None else None
    except ValueModelError as exc:
        return _empty(months, _("The value refresh's models give no usable figures: %(why)s")
                      % {"why": exc}, as_of)
    at = {0: np.zeros(n)}
    for i, h in enumerate(horizons):
        at[h] = curve[i]
    purchases, revenue = [], []
    for k in range(len(months)):
        per_customer = at[bounds[k + 1]] - at[bounds[k]]
        purchases.append(float(per_customer.sum()))
        value = float(np.dot(per_customer, spend)) if spend is not None else 0.0
        revenue.append(Decimal(f"{value:.2f}"))
    note = "" if spend is not None else _(
        "The latest value refresh fitted no spend model, so the installed base's revenue is "
        "not estimated.")
    return InstalledBase(purchases, revenue, as_of=as_of, customers=n, note=note)


def _repeat_spend(ids: list[int], x: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Each customer's mean spend of the repeat purchase days up to `as_of` (0 without a
    repeat purchase): the orders' total less the first purchase day's, over x."""
    orders = Transaction.objects.filter(customer_id__in=ids, kind=TransactionKind.ORDER,
                                        date__lte=as_of)
    total: dict[int, Decimal] = defaultdict(Decimal)
    for cid, s in orders.order_by().values("customer_id").annotate(s=Sum("amount")) \
            .values_list("customer_id", "s"):
        total[cid] = s or Decimal(0)
    first: dict[int, Decimal] = defaultdict(Decimal)
    for cid, s in orders.filter(date=F("customer__value__first_purchase")).order_by() \
            .values("customer_id").annotate(s=Sum("amount")).values_list("customer_id", "s"):
        first[cid] = s or Decimal(0)
    repeat = np.array([float(total[c] - first[c]) for c in ids])
    return np.divide(repeat, x, out=np.zeros(len(ids)), where=x > 0)


def register() -> None:
    from kehu.sales.pipeline.forecast import register_installed_base

    register_installed_base(expected_by_month)
