"""Which products go together: the product-to-product table behind each customer's
cross-sell and up-sell candidates (kehu.value.cross_sell does the maths).

The value refresh rebuilds the table from every order line up to its day (rebuild); the
card asks for one customer's candidates when it is opened (candidates_for), which costs
the customer's products times their neighbours, a few hundred rows at most.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.utils.formats import number_format
from django.utils.translation import ngettext

from kehu.analytics.models import ProductAffinity
from kehu.core.bulk import write_rows
from kehu.core.money import format_money
from kehu.customers.models import Product, TransactionKind, TransactionLine
from kehu.value.cross_sell import (
    Affinity,
    Candidate,
    affinity,
    cross_sell,
    purchase_matrix,
    up_sell,
)

CHUNK = 200_000
CROSS_SELL = 5
UP_SELL = 3


def purchase_pairs(as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """(customer id, product id) of every order line up to `as_of` with a product and a
    positive quantity, once each. Returns are not purchases."""
    sql = ("SELECT DISTINCT t.customer_id, l.product_id FROM customers_transactionline l "
           "JOIN customers_transaction t ON t.id = l.transaction_id "
           "WHERE t.kind <> %s AND t.date <= %s AND l.product_id IS NOT NULL "
           "AND l.quantity > 0")
    parts: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [TransactionKind.RETURN, as_of])
        while rows := cursor.fetchmany(CHUNK):
            parts.append(np.array(rows, dtype=np.int64).reshape(-1, 2))
    pairs = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.int64)
    return pairs[:, 0], pairs[:, 1]


def compute(as_of: dt.date) -> Affinity:
    """The table of every product's closest neighbours from the purchases up to `as_of`."""
    customers, products = purchase_pairs(as_of)
    if not customers.size:
        return Affinity.empty()
    buyer_ids, row = np.unique(customers, return_inverse=True)
    labels, column = np.unique(products, return_inverse=True)
    return affinity(purchase_matrix(row, column, (buyer_ids.size, labels.size)), labels=labels)


def rebuild(as_of: dt.date) -> int:
    """Replace the product-to-product table by the one the purchases up to `as_of` give;
    returns its number of rows."""
    table = compute(as_of)
    if table.product.size:
        starts = np.flatnonzero(np.r_[True, table.product[1:] != table.product[:-1]])
        rank = np.arange(table.product.size) - np.repeat(
            starts, np.diff(np.r_[starts, table.product.size])) + 1
    else:
        rank = np.empty(0, dtype=np.int64)
    day = as_of.isoformat() if connection.vendor == "sqlite" else as_of
    columns = ["product_id", "related_id", "rank", "co_buyers", "buyers", "similarity",
               "confidence", "lift", "as_of"]
    rows = zip(table.product.tolist(), table.related.tolist(), rank.tolist(),
               table.co_buyers.tolist(), table.buyers.tolist(), table.similarity.tolist(),
               table.confidence.tolist(), table.lift.tolist(), [day] * len(table),
               strict=True)
    with transaction.atomic():
        ProductAffinity.objects.all()._raw_delete(ProductAffinity.objects.db)
        if len(table):
            write_rows(ProductAffinity._meta.db_table, columns, rows, plain=True)
    return len(table)


@dataclass(frozen=True)
class Offer:
    """A product to offer the customer, with the product their history speaks through."""

    product: Product
    because: Product
    share: float  # of `because`'s buyers, the share who bought `product`
    co_buyers: int
    up: bool  # an up-sell: dearer than `because`

    @property
    def percent(self) -> int:
        return round(self.share * 100)

    @property
    def reason(self) -> str:
        """One sentence, in the reader's language, naming products only."""
        values = {"percent": self.percent, "code": self.because.code,
                  "name": self.because.name, "n": number_format(self.co_buyers,
                                                                 force_grouping=True),
                  "price": format_money(self.because.unit_price)}
        if self.up:
            return ngettext(
                "A dearer choice than %(code)s %(name)s (%(price)s): bought by %(percent)s%% "
                "of its buyers (%(n)s customer).",
                "A dearer choice than %(code)s %(name)s (%(price)s): bought by %(percent)s%% "
                "of its buyers (%(n)s customers).", self.co_buyers) % values
        return ngettext(
            "Bought by %(percent)s%% of the customers who bought %(code)s %(name)s (%(n)s "
            "customer).",
            "Bought by %(percent)s%% of the customers who bought %(code)s %(name)s (%(n)s "
            "customers).", self.co_buyers) % values


@dataclass(frozen=True)
class Offers:
    cross_sell: list[Offer]
    up_sell: list[Offer]
    as_of: dt.date | None  # the purchases the table was built from


def candidates_for(customer_id: int, *, cross: int = CROSS_SELL, up: int = UP_SELL
                   ) -> Offers:
    """One customer's candidates from the current table: never a product the customer has
    bought or returned, never an inactive one. An up-sell is not listed again as a
    cross-sell. The caller checks that the reader may see the customer."""
    touched = set(TransactionLine.objects.filter(
        transaction__customer_id=customer_id, product__isnull=False)
        .values_list("product_id", flat=True).distinct())
    bought = set(TransactionLine.objects.filter(
        transaction__customer_id=customer_id, product__isnull=False, quantity__gt=0)
        .exclude(transaction__kind=TransactionKind.RETURN)
        .values_list("product_id", flat=True).distinct())
    rows = list(ProductAffinity.objects.filter(product_id__in=bought).values_list(
        "product_id", "related_id", "co_buyers", "buyers", "similarity", "confidence",
        "lift", "as_of"))
    if not rows:
        return Offers([], [], None)
    columns = list(zip(*rows, strict=True))
    ints = [np.asarray(c, dtype=np.int64) for c in columns[:4]]
    floats = [np.asarray(c, dtype=float) for c in columns[4:7]]
    table = Affinity(*ints, *floats, n_buyers=0)
    products = Product.objects.in_bulk({*columns[0], *columns[1]})
    active = [pk for pk, p in products.items() if p.active]
    prices = {pk: float(p.unit_price) for pk, p in products.items()
              if p.unit_price > Decimal("0")}
    ups = up_sell(bought, table, prices, exclude=touched, eligible=active, limit=up)
    crosses = cross_sell(bought, table, exclude=touched | {c.product for c in ups},
                         eligible=active, limit=cross)

    def offer(c: Candidate, up: bool) -> Offer:
        return Offer(products[c.product], products[c.because], c.share, c.co_buyers, up)

    return Offers([offer(c, False) for c in crosses], [offer(c, True) for c in ups],
                  max(columns[7]))
