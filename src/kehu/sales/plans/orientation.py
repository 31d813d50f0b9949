"""The customer's buying orientation (seed 002: strategy-, price- or solution-oriented),
suggested from what they bought, with the reason in figures, and the selling approach each
orientation calls for.

Seed 002 describes the three by their behaviour: price-oriented customers choose the lower
price to get more value for their money; solution-oriented customers take the seller's
advice and weigh the cost they save; strategy-oriented customers draw their suppliers into
their own marketing and growth. From the orders kehu reads two things:

- discount depth: how far below the product's list price (Product.unit_price) they bought,
  weighted by the list value of what they bought;
- product mix: how many of their orders combine several different products (a solution)
  rather than one or two items, and how many products they buy in all.

The rules, in this order: deep discounts mean price-oriented; mostly combined orders mean
solution-oriented; buying near list price, steadily over time and across the range, means
strategy-oriented (a long relationship valued above the price); anything else is not clear
enough to suggest. Returns count as they are not: only orders and invoices are read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.sales.plans.models import BuyingOrientation

MIN_ORDERS = 3  # fewer orders with list prices tell nothing
PRICE_DISCOUNT = 0.10  # bought 10% or more below list on average: price-oriented
NEAR_LIST = 0.05  # within 5% of list: not buying on price
BUNDLE_PRODUCTS = 3  # an order of this many different products is a solution
SOLUTION_SHARE = 0.5  # half the orders or more are solutions: solution-oriented
STRATEGY_QUARTERS = 4  # buying in this many different quarters …
STRATEGY_PRODUCTS = 4  # … across this many products: a long relationship, strategy-oriented

# What each orientation calls for (seed 002; the partnership's top-level visits and joint
# workshops are seed 001's).
APPROACHES = {
    BuyingOrientation.STRATEGY: gettext_lazy(
        "Sell as a partner: regular visits at the top level, joint business workshops and "
        "planning, and a place in their own marketing; compete on the relationship, not on "
        "price."),
    BuyingOrientation.PRICE: gettext_lazy(
        "Sell on price and efficiency: standard products at a keen price, volume and payment "
        "terms, and a low cost to serve; show the value they get for the money."),
    BuyingOrientation.SOLUTION: gettext_lazy(
        "Sell a solution: advise them, combine products and services into one offer, and "
        "show the total cost they save."),
}


@dataclass(frozen=True)
class Line:
    order: int  # the transaction's id
    date: dt.date
    product: int
    quantity: Decimal
    unit_price: Decimal
    list_price: Decimal


@dataclass
class Figures:
    orders: int = 0
    discount: float = 0.0  # 0.18 = 18% below list
    products: int = 0
    bundles: int = 0  # orders of BUNDLE_PRODUCTS or more different products
    quarters: int = 0
    per_order: dict[int, set] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    orientation: str  # a BuyingOrientation value, or "" when the purchases do not tell
    reason: str
    figures: Figures

    @property
    def label(self) -> str:
        return str(BuyingOrientation(self.orientation).label) if self.orientation else ""

    @property
    def approach(self) -> str:
        return str(APPROACHES[self.orientation]) if self.orientation else ""


def figures(lines: list[Line]) -> Figures:
    products: dict[int, set] = defaultdict(set)
    quarters = set()
    paid = listed = Decimal("0")
    for ln in lines:
        if ln.list_price <= 0 or ln.quantity <= 0:
            continue
        products[ln.order].add(ln.product)
        quarters.add((ln.date.year, (ln.date.month - 1) // 3))
        paid += ln.quantity * ln.unit_price
        listed += ln.quantity * ln.list_price
    out = Figures(per_order=dict(products))
    out.orders = len(products)
    out.products = len(set().union(*products.values())) if products else 0
    out.bundles = sum(1 for p in products.values() if len(p) >= BUNDLE_PRODUCTS)
    out.quarters = len(quarters)
    out.discount = float(1 - paid / listed) if listed else 0.0
    return out


def _pct(share: float) -> str:
    return f"{round(share * 100):d}%"


def suggest_from(lines: list[Line]) -> Suggestion:
    f = figures(lines)
    n = {"orders": f.orders, "discount": _pct(abs(f.discount)), "products": f.products,
         "bundles": f.bundles, "quarters": f.quarters, "size": BUNDLE_PRODUCTS}
    if f.orders < MIN_ORDERS:
        return Suggestion("", _("Only %(orders)d orders with list prices so far: too few to "
                                "tell how they buy.") % n, f)
    if f.discount >= PRICE_DISCOUNT:
        return Suggestion(BuyingOrientation.PRICE, _(
            "Bought at %(discount)s below list on average across %(orders)d orders → "
            "price-oriented.") % n, f)
    if f.bundles >= SOLUTION_SHARE * f.orders:
        return Suggestion(BuyingOrientation.SOLUTION, _(
            "%(bundles)d of %(orders)d orders combined %(size)d or more different products "
            "(%(products)d products in all), at %(discount)s from list on average → "
            "solution-oriented.") % n, f)
    if f.discount < NEAR_LIST and f.quarters >= STRATEGY_QUARTERS and \
            f.products >= STRATEGY_PRODUCTS:
        return Suggestion(BuyingOrientation.STRATEGY, _(
            "Bought near list price (%(discount)s from list on average) in %(quarters)d "
            "different quarters, %(products)d products across %(orders)d orders, mostly a "
            "few items at a time → strategy-oriented.") % n, f)
    return Suggestion("", _(
        "Bought at %(discount)s from list on average across %(orders)d orders, %(bundles)d "
        "of them combining %(size)d or more products, in %(quarters)d quarters: no clear "
        "pattern yet.") % n, f)
