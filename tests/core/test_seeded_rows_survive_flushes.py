"""The rows the data migrations seed are there in every test, also after a test whose
committed writes ended with a flush (see tests/conftest.py pytest_collection_modifyitems)."""

from __future__ import annotations

import pytest

from kehu.marketing.offers.models import CouponTier
from kehu.service.tickets.models import TicketCategory


def _seeded() -> tuple[int, int]:
    return CouponTier.objects.count(), TicketCategory.objects.count()


@pytest.mark.parametrize("turn", [1, 2])
def test_a_committed_test_finds_the_seeded_rows_whatever_ran_before(committed_db, turn):
    # Whichever of the two runs second starts after the first one's flush.
    tiers, categories = _seeded()
    assert tiers > 0 and categories > 0


def test_an_ordinary_test_finds_them_too(db):
    tiers, categories = _seeded()
    assert tiers > 0 and categories > 0
