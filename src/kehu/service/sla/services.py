"""Writes of the service levels: the firm's service hours and holidays and the targets
(administrators), and a customer's service group decided against the rule (managers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import available_timezones

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.versions import check_version
from kehu.customers.models import Customer, ServiceGroup
from kehu.service.sla.models import (
    DayKind,
    Holiday,
    ServiceGroupChoice,
    ServiceHours,
    SlaTarget,
    WorkingPeriod,
)

MAX_MINUTES = 60 * 24 * 60


def _settings_only(user) -> None:
    if not policy.may_change_service_levels(user):
        raise NotPermitted(_("Only administrators may change the service hours and targets."))


@transaction.atomic
def update_service_hours(user, *, time_zone: str, warn_percent: int, makeup_as: int,
                         periods: Iterable[tuple[int, dt.time, dt.time]],
                         expected_version: int | None = None, ip: str | None = None,
                         via: str = "web") -> ServiceHours:
    """Set the firm's time zone, the warning share, the weekday a make-up day keeps and the
    weekly working periods (replacing them all)."""
    _settings_only(user)
    time_zone = (time_zone or "").strip()
    if time_zone not in available_timezones():
        raise ServiceError(_("“%(zone)s” is not a time zone; give one like Asia/Shanghai.")
                           % {"zone": time_zone}, field="time_zone")
    if not 1 <= int(warn_percent) <= 90:
        raise ServiceError(_("Warn when between 1 % and 90 % of the time is left."),
                           field="warn_percent")
    if not 0 <= int(makeup_as) <= 6:
        raise ServiceError(_("Choose a weekday."), field="makeup_as")
    periods = sorted(set(periods))
    for _weekday, start, end in periods:
        if start == end and start != dt.time(0):
            raise ServiceError(_("A working period from %(start)s to %(end)s is empty; use "
                                 "00:00 to 00:00 for a whole day.")
                               % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                               field="periods")
    if not periods:
        raise ServiceError(_("Give at least one working period: without service hours no "
                             "target could ever fall due."), field="periods")
    hours = ServiceHours.objects.select_for_update().filter(pk=1).first()
    if hours is None:
        hours = ServiceHours(pk=1, version=0)
    else:
        check_version(hours, expected_version, _("service hours"))
    hours.time_zone, hours.warn_percent, hours.makeup_as = time_zone, int(warn_percent), \
        int(makeup_as)
    hours.version += 1
    hours.save()
    WorkingPeriod.objects.all().delete()
    WorkingPeriod.objects.bulk_create([WorkingPeriod(weekday=d, start=a, end=b)
                                       for d, a, b in periods])
    record(user, "sla.hours", ip=ip, via=via,
           detail={"time_zone": time_zone, "warn_percent": hours.warn_percent,
                   "periods": [f"{d} {a:%H:%M}-{b:%H:%M}" for d, a, b in periods]})
    return hours


@transaction.atomic
def save_holiday(user, *, day: dt.date, kind: str, name_en: str = "", name_zh: str = "",
                 ip: str | None = None, via: str = "web") -> Holiday:
    """Add a holiday or a make-up working day, or change the one on that date."""
    _settings_only(user)
    if kind not in DayKind.values:
        raise ServiceError(_("Choose whether the day is a holiday or a make-up working day."),
                           field="kind")
    if not (name_en.strip() or name_zh.strip()):
        raise ServiceError(_("Give the day a name."), field="name_en")
    holiday, _created = Holiday.objects.select_for_update().update_or_create(
        day=day, defaults={"kind": kind, "name_en": name_en.strip(),
                           "name_zh": name_zh.strip()})
    record(user, "sla.holiday", ip=ip, via=via,
           detail={"day": day.isoformat(), "kind": kind, "name": holiday.name_en or
                   holiday.name_zh})
    return holiday


@transaction.atomic
def delete_holiday(user, holiday: Holiday, *, ip: str | None = None, via: str = "web") -> None:
    _settings_only(user)
    row = Holiday.objects.select_for_update().filter(pk=holiday.pk).first()
    if row is None:
        raise ServiceError(_("That day is no longer in the calendar."))
    record(user, "sla.holiday_delete", ip=ip, via=via,
           detail={"day": row.day.isoformat(), "kind": row.kind})
    row.delete()


def _minutes(value, label: str, field: str) -> int:
    minutes = int((Decimal(value) * 60).to_integral_value())
    if not 1 <= minutes <= MAX_MINUTES:
        raise ServiceError(_("%(what)s must be from one minute to 1,440 working hours.")
                           % {"what": label}, field=field)
    return minutes


@transaction.atomic
def save_targets(user, service_group: str,
                 cells: dict[tuple[str, str], tuple[Decimal, Decimal] | None], *,
                 ip: str | None = None, via: str = "web") -> int:
    """Set a service group's targets: (segment, priority) → (first response, resolution) in
    working HOURS, or None to drop a segment's own row (the group's row for every segment,
    segment "", cannot be dropped). Returns how many rows the group now has."""
    _settings_only(user)
    if service_group not in ServiceGroup.values:
        raise ServiceError(_("There is no service group “%(group)s”.")
                           % {"group": service_group})
    rows = []
    for (segment, priority), hours in sorted(cells.items()):
        field = f"{segment or 'any'}_{priority}"
        if hours is None:
            if not segment:
                raise ServiceError(_("Every priority needs a target for all segments."),
                                   field=field)
            continue
        first = _minutes(hours[0], _("The first response"), f"{field}_first")
        resolve = _minutes(hours[1], _("The resolution"), f"{field}_resolve")
        if resolve < first:
            raise ServiceError(_("A ticket cannot be resolved before it is first answered: "
                                 "give the resolution at least the first response's time."),
                               field=f"{field}_resolve")
        rows.append(SlaTarget(service_group=service_group, segment=segment, priority=priority,
                              first_response_minutes=first, resolution_minutes=resolve))
    SlaTarget.objects.select_for_update().filter(service_group=service_group).delete()
    SlaTarget.objects.bulk_create(rows)
    record(user, "sla.targets", ip=ip, via=via,
           detail={"group": service_group,
                   "targets": {f"{r.segment or '*'}/{r.priority}":
                               [r.first_response_minutes, r.resolution_minutes] for r in rows}})
    return len(rows)


@transaction.atomic
def decide_service_group(user, customer: Customer, *, service_group: str, reason: str,
                         ip: str | None = None, via: str = "web") -> ServiceGroupChoice:
    """Put a customer in a service group against the rule, saying why; an empty group
    returns the customer to the rule."""
    customer = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if customer is None or not policy.may_decide_service_group(user, customer):
        raise NotPermitted(_("Only the customer's team manager or an administrator may "
                             "decide the service group."))
    if service_group and service_group not in ServiceGroup.values:
        raise ServiceError(_("There is no service group “%(group)s”.")
                           % {"group": service_group}, field="service_group")
    reason = (reason or "").strip()
    if service_group and not reason:
        raise ServiceError(_("Say why this customer is served differently from the rule."),
                           field="reason")
    choice = ServiceGroupChoice.objects.create(customer=customer, service_group=service_group,
                                               reason=reason[:300], by=user,
                                               at=timezone.now())
    record(user, "sla.service_group", obj=customer, ip=ip, via=via,
           detail={"group": service_group or "rule"})
    return choice

