"""The survey answers as stated intentions for the loyalty index (kehu.analytics.intentions):
the intention to buy again, and the recommendation question (NPS) as the intention to
recommend us, both 0–10, on the day the customer answered."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone

from kehu.analytics.intentions import Stated
from kehu.service.surveys.models import SurveyResponse


def stated_intentions() -> Iterator[Stated]:
    rows = (SurveyResponse.objects.filter(Q(buy_again__isnull=False) | Q(nps__isnull=False))
            .order_by("answered_at", "id")
            .values_list("customer_id", "answered_at", "buy_again", "nps"))
    for pk, answered_at, buy_again, recommend in rows.iterator(chunk_size=5000):
        yield pk, timezone.localtime(answered_at).date(), buy_again, recommend
