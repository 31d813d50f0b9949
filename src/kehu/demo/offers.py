"""The demo's one-to-one offers: two rounds of personalised offer lists, built as the firm's
daily run would have built them three and one weeks ago (so that coupons of the first round
had time to be used), and the coupons customers used on the orders they placed since."""

from __future__ import annotations

import datetime as dt
import random

from kehu.accounts.models import User
from kehu.customers.models import Transaction, TransactionKind
from kehu.marketing.offers.models import Coupon
from kehu.marketing.offers.services import build_offer_lists, redeem_coupon

SEED = 14
REDEEMED_SHARE = 0.35  # of the coupons whose customer ordered while the coupon was valid


def load(users: dict[str, User], last_day: dt.date) -> dict[str, int]:
    rng = random.Random(SEED)
    first = build_offer_lists(None, as_of=last_day - dt.timedelta(weeks=3))
    second = build_offer_lists(None, as_of=last_day - dt.timedelta(weeks=1))
    redeemed = 0
    for coupon in Coupon.objects.filter(redeemed_transaction__isnull=True).order_by("pk"):
        order = (Transaction.objects.filter(
            customer_id=coupon.customer_id, kind=TransactionKind.ORDER,
            date__gte=coupon.valid_from, date__lte=min(coupon.valid_until, last_day),
            amount__gte=coupon.min_order, coupon__isnull=True).order_by("date", "pk").first())
        if order is not None and rng.random() < REDEEMED_SHARE:
            redeem_coupon(users["admin"], coupon.code, order, via="cli")
            redeemed += 1
    return {"lists": first.lists + second.lists, "coupons": first.coupons + second.coupons,
            "redeemed": redeemed}
