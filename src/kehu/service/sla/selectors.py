"""Reads of the service levels. The hours and targets are the firm's, the same for every
signed-in user; a customer's service group is read only by those who may see the customer."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import NotPermitted
from kehu.core.permissions import VIEW, can
from kehu.customers.models import Customer, ServiceGroup
from kehu.service.sla.calendar import hours_row
from kehu.service.sla.groups import PROMISES, GroupDecision, group_of
from kehu.service.sla.models import (
    Holiday,
    ServiceGroupChoice,
    ServiceHours,
    SlaTarget,
    Weekday,
    WorkingPeriod,
)

PRIORITIES = ("urgent", "high", "normal", "low")
PRIORITY_LABELS = {"urgent": _("Urgent"), "high": _("High"), "normal": _("Normal"),
                   "low": _("Low")}
SEGMENTS = ("", "invest", "develop", "maintain", "minimise")


@dataclass
class HoursView:
    hours: ServiceHours
    periods: dict[int, list[WorkingPeriod]]
    holidays: list[Holiday]

    @property
    def days(self) -> list[tuple[str, list[WorkingPeriod]]]:
        return [(str(label), self.periods[d]) for d, label in Weekday.choices]


def service_hours(user) -> HoursView:
    periods: dict[int, list[WorkingPeriod]] = {d: [] for d in Weekday.values}
    for p in WorkingPeriod.objects.order_by("weekday", "start"):
        periods[p.weekday].append(p)
    return HoursView(hours_row(), periods, list(Holiday.objects.order_by("day")))


@dataclass
class GroupTargets:
    group: str
    label: str
    promise: str
    # segment → priority → SlaTarget or None
    cells: dict[str, dict[str, SlaTarget | None]] = field(default_factory=dict)


def target_table(user) -> list[GroupTargets]:
    rows = {(t.service_group, t.segment, t.priority): t for t in SlaTarget.objects.all()}
    out = []
    for group, label in ServiceGroup.choices:
        table = GroupTargets(group, str(label), str(PROMISES[group]))
        for segment in SEGMENTS:
            table.cells[segment] = {p: rows.get((group, segment, p)) for p in PRIORITIES}
        out.append(table)
    return out


def customer_service_group(user, customer: Customer
                           ) -> tuple[GroupDecision, list[ServiceGroupChoice]]:
    """A customer's service group, why, and the decisions about it (latest first)."""
    if not can(user, VIEW, customer):
        raise NotPermitted("not visible")
    history = list(ServiceGroupChoice.objects.filter(customer=customer)
                   .select_related("by").order_by("-at", "-id")[:20])
    return group_of(customer, history[0] if history else None, looked_up=True), history
