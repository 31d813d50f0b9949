"""The filter of a target list: which customers it holds.

The same filters as the customer list's "by value" (value segment, volume × loyalty
quadrant, P(alive), CLV, at risk) and its lifecycle state and nature, plus the loyalty
index, the RFM scores and the region. A filter is a small dict of these keys, saved on the
list as JSON; `clean` checks one (a bad value is refused with a message naming the field),
`matching` applies it to a queryset of customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.analytics.models import Quadrant, ValueSegment
from kehu.core.errors import ServiceError
from kehu.customers.models import CustomerNature, LifecycleState


@dataclass(frozen=True)
class Criterion:
    key: str
    label: Any
    kind: str  # "choice", "number", "decimal", "int", "text", "flag"
    lookup: str
    low: float | None = None
    high: float | None = None
    choices: Any = None


CRITERIA: tuple[Criterion, ...] = (
    Criterion("segment", gettext_lazy("Value segment"), "choice", "value__segment",
              choices=ValueSegment.choices),
    Criterion("quadrant", gettext_lazy("Volume × loyalty"), "choice", "value__quadrant",
              choices=Quadrant.choices),
    Criterion("state", gettext_lazy("Lifecycle state"), "choice", "lifecycle_state",
              choices=LifecycleState.choices),
    Criterion("nature", gettext_lazy("Customer nature"), "choice", "nature",
              choices=CustomerNature.choices),
    Criterion("loyalty_min", gettext_lazy("Loyalty index from"), "number",
              "value__loyalty_index__gte", 0, 100),
    Criterion("loyalty_max", gettext_lazy("Loyalty index to"), "number",
              "value__loyalty_index__lte", 0, 100),
    Criterion("p_alive_min", gettext_lazy("P(alive) from"), "number", "value__p_alive__gte",
              0, 1),
    Criterion("p_alive_max", gettext_lazy("P(alive) to"), "number", "value__p_alive__lte",
              0, 1),
    Criterion("clv_min", gettext_lazy("CLV from"), "decimal", "value__clv__gte"),
    Criterion("clv_max", gettext_lazy("CLV to"), "decimal", "value__clv__lte"),
    Criterion("rfm_r_min", gettext_lazy("Recency score (R) at least"), "int",
              "value__rfm_r__gte", 1, 5),
    Criterion("rfm_f_min", gettext_lazy("Frequency score (F) at least"), "int",
              "value__rfm_f__gte", 1, 5),
    Criterion("rfm_m_min", gettext_lazy("Monetary score (M) at least"), "int",
              "value__rfm_m__gte", 1, 5),
    Criterion("province", gettext_lazy("Province"), "text", "province__iexact"),
    Criterion("city", gettext_lazy("City"), "text", "city__iexact"),
    Criterion("industry", gettext_lazy("Industry"), "text", "industry__icontains"),
    Criterion("at_risk", gettext_lazy("At risk only"), "flag", "value__at_risk"),
)
BY_KEY = {c.key: c for c in CRITERIA}
KEYS = tuple(BY_KEY)
TEXT_MAX = 100


def _number(c: Criterion, raw: Any) -> float | int | str:
    try:
        if c.kind == "decimal":
            value = Decimal(str(raw).strip())
            if not value.is_finite() or abs(value) >= Decimal("1e14"):
                raise InvalidOperation
            return str(value)
        if c.kind == "int":
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            value = int(str(raw).strip())
        else:
            value = float(str(raw).strip())
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
    except (ValueError, TypeError, InvalidOperation):
        raise ServiceError(_("%(field)s: enter a number.") % {"field": c.label},
                           field=c.key) from None
    if (c.low is not None and value < c.low) or (c.high is not None and value > c.high):
        raise ServiceError(_("%(field)s: enter a number from %(low)s to %(high)s.")
                           % {"field": c.label, "low": c.low if c.kind != "int" else int(c.low),
                              "high": c.high if c.kind != "int" else int(c.high)},
                           field=c.key)
    return value


def clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """The filter in `data` checked and normalised (empty values left out); ServiceError
    naming the field for an unknown key or a bad value."""
    if not isinstance(data, Mapping):
        raise ServiceError(_("The filter must be an object of field names and values."),
                           field="criteria")
    out: dict[str, Any] = {}
    for key, raw in data.items():
        c = BY_KEY.get(key)
        if c is None:
            raise ServiceError(_("Unknown filter: %(key)s.") % {"key": str(key)[:50]},
                               field="criteria")
        if raw is None or raw == "" or raw is False:
            continue
        if c.kind == "flag":
            if raw not in (True, "1", "true", "on", 1):
                raise ServiceError(_("%(field)s: yes or no.") % {"field": c.label}, field=key)
            out[key] = True
        elif c.kind == "choice":
            if raw not in {v for v, _label in c.choices}:
                raise ServiceError(_("%(field)s: choose one of the offered values.")
                                   % {"field": c.label}, field=key)
            out[key] = raw
        elif c.kind == "text":
            text = str(raw).strip()
            if len(text) > TEXT_MAX or "\x00" in text:
                raise ServiceError(_("%(field)s: at most %(n)d characters.")
                                   % {"field": c.label, "n": TEXT_MAX}, field=key)
            if text:
                out[key] = text
        else:
            out[key] = _number(c, raw)
    for low, high in (("loyalty_min", "loyalty_max"), ("p_alive_min", "p_alive_max"),
                      ("clv_min", "clv_max")):
        if low in out and high in out and Decimal(str(out[low])) > Decimal(str(out[high])):
            raise ServiceError(_("%(low)s is above %(high)s: no customer can match.")
                               % {"low": BY_KEY[low].label, "high": BY_KEY[high].label},
                               field=low)
    return out


def condition(criteria: Mapping[str, Any]) -> Q:
    """The (cleaned) filter as a condition on customers."""
    q = Q()
    for key, value in criteria.items():
        q &= Q(**{BY_KEY[key].lookup: Decimal(value) if BY_KEY[key].kind == "decimal"
                  else value})
    return q


def matching(customers: QuerySet, criteria: Mapping[str, Any]) -> QuerySet:
    return customers.filter(condition(criteria))


def describe(criteria: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The filter as (label, value) pairs in the reader's language."""
    out = []
    for key, value in criteria.items():
        c = BY_KEY.get(key)
        if c is None:
            continue
        if c.kind == "choice":
            shown = str(dict(c.choices).get(value, value))
        elif c.kind == "flag":
            shown = _("yes")
        else:
            shown = str(value)
        out.append((str(c.label), shown))
    return out
