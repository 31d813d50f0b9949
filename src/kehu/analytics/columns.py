"""The value columns of customer exports (kehu.dataio.exports): the customer's value segment,
volume × loyalty quadrant, CLV, 12-month contribution, P(alive), loyalty index and whether
they are at risk, as of the latest value refresh (empty for a customer not scored yet), read
in the one query of the export. They are the figures the card shows to whoever sees the
customer (kehu.core.policy.may_see_customer_values)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from kehu.analytics.models import CustomerValue, Quadrant, ValueSegment
from kehu.core import policy
from kehu.dataio.exports.services import Column, ExtraColumns, add_columns

SEGMENTS = dict(ValueSegment.choices)
QUADRANTS = dict(Quadrant.choices)
# (name in the export, the CustomerValue field, how a value is shown)
FIELDS = (
    ("value_segment", "segment", lambda v: str(SEGMENTS.get(v, ""))),
    ("value_quadrant", "quadrant", lambda v: str(QUADRANTS.get(v, ""))),
    ("value_clv", "clv", None),
    ("value_net_contribution_12m", "net_contribution_12m", None),
    ("value_p_alive", "p_alive", lambda v: None if v is None else round(v, 4)),
    ("value_loyalty_index", "loyalty_index", lambda v: None if v is None else round(v, 1)),
    ("value_at_risk", "at_risk", None),
)


def _annotate(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(**{name: F(f"value__{field}") for name, field, _show in FIELDS})


def _column(name: str, field: str, show) -> Column:
    label = CustomerValue._meta.get_field(field).verbose_name
    if show is None:
        return Column(name, label, lambda c: getattr(c, name, None))
    return Column(name, label, lambda c: show(getattr(c, name, None)))


def _columns(user) -> list[Column]:
    if not policy.may_see_customer_values(user):
        return []
    return [_column(*f) for f in FIELDS]


def register() -> None:
    add_columns(ExtraColumns("analytics.value", "customers", _columns, _annotate))
