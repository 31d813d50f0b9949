"""The firm's service calendar and targets as the clock reads them, loaded from the database
(a few queries, whatever the number of tickets)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kehu.service.sla import clock
from kehu.service.sla.models import DayKind, Holiday, ServiceHours, SlaTarget, WorkingPeriod


def hours_row() -> ServiceHours:
    row = ServiceHours.objects.filter(pk=1).first()
    return row if row is not None else ServiceHours(pk=1)


def load_calendar() -> clock.Calendar:
    hours = hours_row()
    periods = tuple(clock.Period(p.weekday, p.start, p.end)
                    for p in WorkingPeriod.objects.order_by("weekday", "start"))
    days = list(Holiday.objects.values_list("day", "kind"))
    return clock.Calendar(
        hours.time_zone, periods,
        holidays=frozenset(d for d, k in days if k == DayKind.HOLIDAY),
        makeup_days=frozenset(d for d, k in days if k == DayKind.MAKEUP),
        makeup_as=hours.makeup_as)


@dataclass(frozen=True)
class Budget:
    first_response: dt.timedelta
    resolution: dt.timedelta
    segment: str  # the row's segment ("" for the row of every segment)


class Targets:
    """The target table, looked up per service group × value segment × priority: the row of
    the segment, else the group's row for every segment, else none."""

    def __init__(self, rows=None) -> None:
        rows = SlaTarget.objects.all() if rows is None else rows
        self._cells = {(t.service_group, t.segment, t.priority): t for t in rows}

    def budget(self, group: str, segment: str, priority: str) -> Budget | None:
        row = self._cells.get((group, segment or "", priority)) or \
            self._cells.get((group, "", priority))
        if row is None:
            return None
        return Budget(dt.timedelta(minutes=row.first_response_minutes),
                      dt.timedelta(minutes=row.resolution_minutes), row.segment)
