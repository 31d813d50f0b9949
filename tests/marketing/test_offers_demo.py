"""The demo firm's offer lists: built from its order lines, with products due again by the
customers' own rhythm and products bought together."""

import pytest

from kehu.demo import loader
from kehu.marketing.offers.models import OfferItem, OfferList
from tests.marketing.conftest import ensure_coupon_tiers

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_demo_has_offer_lists_worth_reading():
    ensure_coupon_tiers()
    loader.load(language="en", sample=800)
    lists = OfferList.objects.count()
    due = OfferItem.objects.filter(kind="due").count()
    suggested = OfferItem.objects.filter(kind="suggested").count()
    assert lists >= 20 and due >= 10 and suggested >= 10
