"""Which customers the value scores mark as key accounts, for sales' account plans
(kehu.sales.plans.keys, registered from AnalyticsConfig.ready()): those in the top fifth
by current value (Sherden's 80/20: they make most of the profit) and those in the
"invest and retain" segment (high current and high potential value)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kehu.analytics.models import CustomerValue, ValueSegment

TOP_PERCENTILE = 80.0  # value_percentile: 100 is the most valuable customer


def key_customers(customers: QuerySet, limit: int | None = None) -> dict[int, str]:
    rows = (CustomerValue.objects
            .filter(customer__in=customers.values("pk"))
            .filter(Q(value_percentile__gte=TOP_PERCENTILE) | Q(segment=ValueSegment.INVEST))
            .order_by("value_rank", "customer_id")
            .values_list("customer_id", "value_rank", "value_percentile", "segment"))
    if limit is not None:
        rows = rows[:limit]
    out = {}
    for pk, rank, percentile, segment in rows:
        if percentile is not None and percentile >= TOP_PERCENTILE:
            out[pk] = _("in the top 20%% of customers by current value (rank %(rank)s)") % {
                "rank": rank}
        else:
            out[pk] = _("value segment: %(segment)s") % {
                "segment": ValueSegment(segment).label}
    return out
