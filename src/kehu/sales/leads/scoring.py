"""The lead score (0–100) and what gave its points, so that it explains itself.

Three parts, after seed 003 and seed 001 §3:
- the MAN judgements: money 15, authority 15, need 20 points for a yes;
- the selection checklist of a good customer (好客户): low price sensitivity, pays on time,
  good reputation, low cost to serve, fits our size (门当户对) — 6 points for each yes. Size
  counts only as fit, never as bigness: big is not the same as good;
- the look-alike to the firm's loyal customers (lifecycle state "loyal"): up to 6 points
  for the industry, 5 for the region, 5 for the size and 4 for the source, each in
  proportion to how common the lead's value is among loyal customers, relative to the most
  common value (the most common industry of loyal customers earns all 6).

The loyal profile is a firm-wide count of loyal customers per value (no customer is shown),
read once per page or batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.customers.models import Customer, LifecycleState
from kehu.sales.leads.models import CHECKLIST, Lead, LeadSource

MAN_POINTS = (("money", gettext_lazy("Money (purchasing power)"), 15),
              ("authority", gettext_lazy("Authority (decision power)"), 15),
              ("need", gettext_lazy("Need"), 20))
CHECK_POINTS = 6
# (field on the lead, on the customer, label, points)
LOOK_ALIKE = (("industry", "industry", gettext_lazy("Industry"), 6),
              ("province", "province", gettext_lazy("Region"), 5),
              ("size", "size", gettext_lazy("Company size"), 5),
              ("source", "from_lead__source", gettext_lazy("Source"), 4))


@dataclass(frozen=True)
class Part:
    group: str  # "man", "checklist", "look_alike"
    label: str
    points: int
    of: int
    why: str


@dataclass
class Score:
    total: int
    parts: list[Part] = field(default_factory=list)

    def group(self, name: str) -> list[Part]:
        return [p for p in self.parts if p.group == name]

    def subtotal(self, name: str) -> tuple[int, int]:
        parts = self.group(name)
        return sum(p.points for p in parts), sum(p.of for p in parts)


@dataclass(frozen=True)
class LoyalProfile:
    """How many loyal customers have each value of each compared field."""

    total: int
    counts: dict[str, Counter]


def loyal_profile() -> LoyalProfile:
    loyal = Customer.objects.filter(lifecycle_state=LifecycleState.LOYAL)
    counts: dict[str, Counter] = {}
    for _field, column, _label, _points in LOOK_ALIKE:
        rows = (loyal.exclude(**{f"{column}__isnull": True}).exclude(**{column: ""})
                .values(column).annotate(n=Count("pk")).order_by())
        counts[column] = Counter({row[column]: row["n"] for row in rows})
    return LoyalProfile(total=loyal.count(), counts=counts)


def _yes_no(value: bool | None) -> str:
    if value is None:
        return _("not judged yet")
    return _("yes") if value else _("no")


def _shown(field_name: str, value: str) -> str:
    if field_name == "source":
        return str(dict(LeadSource.choices).get(value, value))
    if field_name == "size":
        return str(dict(Lead._meta.get_field("size").choices).get(value, value))
    return value


def score_lead(lead: Lead, profile: LoyalProfile | None = None) -> Score:
    profile = profile or loyal_profile()
    parts: list[Part] = []
    for name, label, points in MAN_POINTS:
        value = getattr(lead, name)
        parts.append(Part("man", str(label), points if value else 0, points, _yes_no(value)))
    for name, label in CHECKLIST:
        value = getattr(lead, name)
        parts.append(Part("checklist", str(label), CHECK_POINTS if value else 0, CHECK_POINTS,
                          _yes_no(value)))
    for name, column, label, points in LOOK_ALIKE:
        value = getattr(lead, name) or ""
        counts = profile.counts.get(column, Counter())
        if not value:
            parts.append(Part("look_alike", str(label), 0, points, _("not known")))
            continue
        if not counts:
            parts.append(Part("look_alike", str(label), 0, points,
                              _("no loyal customer to compare with")))
            continue
        same = counts.get(value, 0)
        top = max(counts.values())
        earned = round(points * same / top) if top else 0
        parts.append(Part("look_alike", str(label), earned, points, _(
            "%(value)s: %(same)s of %(total)s loyal customers (the most common value has "
            "%(top)s)") % {"value": _shown(name, value), "same": same, "total": profile.total,
                           "top": top}))
    total = sum(p.points for p in parts)
    return Score(total=max(0, min(100, total)), parts=parts)
