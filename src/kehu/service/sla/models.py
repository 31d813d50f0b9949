"""Service-level targets (服务等级协议, SLA): the firm's service hours (time zone, weekly
working periods, holidays and make-up working days), the targets for first response and
resolution per service group × value segment × priority, how a customer falls into a service
group (and the overrides of that rule), and each ticket's clocks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kehu.core.models import VersionedModel
from kehu.customers.models import ServiceGroup


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ServiceHours(VersionedModel):
    """The firm's service calendar (one row): its time zone, when a warning goes out, and
    which weekday's hours a make-up working day (调休) keeps."""

    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    warn_percent = models.PositiveSmallIntegerField(
        _("warn when this share of the time is left (%)"), default=25,
        validators=[MinValueValidator(1), MaxValueValidator(90)])
    makeup_as = models.PositiveSmallIntegerField(
        _("a make-up working day keeps the hours of"), choices=Weekday.choices,
        default=Weekday.MONDAY)

    class Meta:
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")

    def __str__(self) -> str:
        return self.time_zone


class WorkingPeriod(models.Model):
    """Working time on a weekday, local; an end not after the start runs past midnight."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("to"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["weekday", "start", "id"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (no service hours)")
    MAKEUP = "makeup", _("Make-up working day")


class Holiday(models.Model):
    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices,
                            default=DayKind.HOLIDAY)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"

    @property
    def name(self) -> str:
        lang = translation.get_language() or ""
        return (self.name_zh or self.name_en) if lang.startswith("zh") else \
            (self.name_en or self.name_zh)


# The default week: Monday to Friday 09:00–18:00, Saturday morning.
DEFAULT_PERIODS = [(d, dt.time(9), dt.time(18)) for d in range(5)] + [
    (5, dt.time(9), dt.time(12))]


class SlaTarget(models.Model):
    """Working minutes to the first response and to the resolution of a ticket of a priority,
    for a service group and a value segment; the row without a segment holds for every
    segment (and for customers not yet scored) that has no row of its own."""

    service_group = models.CharField(_("service group"), max_length=20)
    segment = models.CharField(_("value segment"), max_length=10, blank=True)
    priority = models.CharField(_("priority"), max_length=10)
    first_response_minutes = models.PositiveIntegerField(
        _("first response (working minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 60)])
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (working minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 60)])

    class Meta:
        verbose_name = _("service-level target")
        verbose_name_plural = _("service-level targets")
        ordering = ["service_group", "segment", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["service_group", "segment", "priority"],
                                    name="service_sla_one_target_per_cell"),
            models.CheckConstraint(
                condition=models.Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="service_sla_resolution_after_first_response"),
        ]

    def __str__(self) -> str:
        return f"{self.service_group}/{self.segment or '*'}/{self.priority}"


# Working hours per priority for each group (first response, resolution), after seed 004:
# households are visited and fixed at the first visit (a working day to resolve a normal
# ticket), SMEs are served by scheduled maintenance (more time, planned), large enterprises
# by a named team (the fastest answer). The "invest" segment is answered in half the time.
DEFAULT_TARGETS: dict[str, dict[str, tuple[float, float]]] = {
    "large": {"urgent": (0.5, 4), "high": (1, 8), "normal": (2, 18), "low": (4, 36)},
    "sme": {"urgent": (1, 8), "high": (2, 16), "normal": (4, 27), "low": (8, 45)},
    "household": {"urgent": (1, 6), "high": (2, 9), "normal": (4, 18), "low": (8, 36)},
}
FAST_SEGMENTS = {"invest": 0.5}


def default_target_rows() -> list[tuple[str, str, str, int, int]]:
    rows = []
    for group, by_priority in DEFAULT_TARGETS.items():
        for priority, (first, resolve) in by_priority.items():
            rows.append((group, "", priority, round(first * 60), round(resolve * 60)))
            for segment, factor in FAST_SEGMENTS.items():
                rows.append((group, segment, priority, round(first * 60 * factor),
                             round(resolve * 60 * factor)))
    return rows


def ensure_defaults(using: str = "default", *, hours_model=None, period_model=None,
                    target_model=None) -> None:
    """A firm always has service hours and targets: the defaults where there are none."""
    hours_model = hours_model or ServiceHours
    period_model = period_model or WorkingPeriod
    target_model = target_model or SlaTarget
    if not hours_model.objects.using(using).exists():
        hours_model.objects.using(using).create(pk=1)
        if not period_model.objects.using(using).exists():
            period_model.objects.using(using).bulk_create(
                [period_model(weekday=d, start=a, end=b) for d, a, b in DEFAULT_PERIODS])
    if not target_model.objects.using(using).exists():
        target_model.objects.using(using).bulk_create([
            target_model(service_group=g, segment=s, priority=p, first_response_minutes=f,
                         resolution_minutes=r) for g, s, p, f, r in default_target_rows()])


class ServiceGroupChoice(models.Model):
    """A decision about a customer's service group that overrides the rule (kehu.service.sla
    .groups), with its reason; the latest row holds. A row without a group returns the
    customer to the rule. Kept, not overwritten, so the card can say who decided what."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="service_group_choices",
                                 verbose_name=_("customer"))
    service_group = models.CharField(_("service group"), max_length=20, blank=True,
                                     choices=ServiceGroup.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("service group decision")
        verbose_name_plural = _("service group decisions")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.service_group or '—'}"


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    AT_RISK = "at_risk", _("About to breach")
    PAUSED = "paused", _("Paused: waiting for the customer")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    NONE = "none", _("No target")


class TicketClock(models.Model):
    """A ticket's service-level clocks as last worked out (on each change of the ticket, and
    by the sweep): the target it is held to, when each part falls due, where it stands, and
    whether the warning and the escalation went out. Kept so that the queue sorts and
    filters by time left in the database."""

    ticket = models.OneToOneField("service.Ticket", on_delete=models.CASCADE, primary_key=True,
                                  related_name="sla", verbose_name=_("ticket"))
    service_group = models.CharField(_("service group"), max_length=20,
                                     choices=ServiceGroup.choices)
    segment = models.CharField(_("value segment"), max_length=10, blank=True)
    priority = models.CharField(_("priority"), max_length=10)
    # Working minutes allowed (None: no target for the ticket's cell).
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    # When each falls due; None while the clock stands still (waiting for the customer).
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_state = models.CharField(_("first response"), max_length=10,
                                            choices=ClockState.choices,
                                            default=ClockState.NONE)
    resolution_state = models.CharField(_("resolution"), max_length=10,
                                        choices=ClockState.choices, default=ClockState.NONE)
    # Working minutes left of the target that is next (negative once breached) when worked
    # out; while paused it stays as it was when the pause began.
    minutes_left = models.IntegerField(_("working minutes left"), null=True, blank=True)
    # The instant the next target falls due, for sorting: a paused clock sorts after all
    # running ones, by its minutes left.
    next_due = models.DateTimeField(null=True, blank=True, db_index=True)
    paused = models.BooleanField(_("paused"), default=False)
    first_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    first_escalated_at = models.DateTimeField(null=True, blank=True)
    resolution_escalated_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("service-level clock")
        verbose_name_plural = _("service-level clocks")
        indexes = [models.Index(fields=["paused", "minutes_left"])]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.first_response_state}/{self.resolution_state}"

    @property
    def breached(self) -> bool:
        return ClockState.BREACHED in (self.first_response_state, self.resolution_state) or \
            ClockState.MISSED in (self.first_response_state, self.resolution_state)

    @property
    def at_risk(self) -> bool:
        return ClockState.AT_RISK in (self.first_response_state, self.resolution_state)


__all__ = ["ClockState", "DayKind", "Holiday", "ServiceGroupChoice", "ServiceHours",
           "SlaTarget", "TicketClock", "Weekday", "WorkingPeriod"]
