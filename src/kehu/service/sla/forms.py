"""Input of the service-level pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import ServiceGroup
from kehu.service.sla.models import DayKind, Weekday
from kehu.service.sla.selectors import PRIORITIES, PRIORITY_LABELS, SEGMENTS

PERIODS_PER_DAY = 2
COMMON_ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore",
                "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York",
                "America/Los_Angeles", "UTC"]


def period_field(weekday: int, index: int, end: bool) -> str:
    return f"d{weekday}_{index}_{'end' if end else 'start'}"


class HoursForm(forms.Form):
    time_zone = forms.CharField(label=_("Time zone"), max_length=64,
                                help_text=_("The firm's time zone, e.g. Asia/Shanghai: the "
                                            "working periods are in its local time."),
                                widget=forms.TextInput(attrs={"list": "time-zones"}))
    warn_percent = forms.IntegerField(label=_("Warn when this share of the time is left (%)"),
                                      min_value=1, max_value=90)
    makeup_as = forms.TypedChoiceField(label=_("A make-up working day keeps the hours of"),
                                       choices=Weekday.choices, coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for weekday, label in Weekday.choices:
            for i in range(PERIODS_PER_DAY):
                for end in (False, True):
                    what = _("to") if end else _("from")
                    self.fields[period_field(weekday, i, end)] = forms.TimeField(
                        label=f"{label} {i + 1} {what}", required=False,
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def day_rows(self):
        for weekday, label in Weekday.choices:
            yield label, [(self[period_field(weekday, i, False)],
                           self[period_field(weekday, i, True)])
                          for i in range(PERIODS_PER_DAY)]

    def clean(self):
        data = super().clean()
        periods = []
        for weekday in Weekday.values:
            for i in range(PERIODS_PER_DAY):
                a = data.get(period_field(weekday, i, False))
                b = data.get(period_field(weekday, i, True))
                if (a is None) != (b is None):
                    self.add_error(period_field(weekday, i, b is None),
                                   _("Give both the start and the end of the period, or "
                                     "neither."))
                elif a is not None:
                    periods.append((weekday, a, b))
        data["periods"] = periods
        return data

    @staticmethod
    def initial_for(view) -> dict:
        initial = {"time_zone": view.hours.time_zone, "warn_percent": view.hours.warn_percent,
                   "makeup_as": view.hours.makeup_as}
        for weekday, periods in view.periods.items():
            for i, p in enumerate(periods[:PERIODS_PER_DAY]):
                initial[period_field(weekday, i, False)] = p.start
                initial[period_field(weekday, i, True)] = p.end
        return initial


class HolidayForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=DayKind.choices)
    name_en = forms.CharField(label=_("Name (English)"), max_length=80, required=False)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=80, required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("name_en", "").strip() or data.get("name_zh", "").strip()):
            self.add_error("name_en", _("Give the day a name."))
        return data


SEGMENT_LABELS = [("", _("Every segment (and customers not yet scored)")),
                  ("invest", _("Invest and retain")), ("develop", _("Develop")),
                  ("maintain", _("Maintain")), ("minimise", _("Minimise cost"))]
SEGMENT_NAMES = dict(SEGMENT_LABELS)


def target_field(segment: str, priority: str, which: str) -> str:
    return f"{segment or 'any'}_{priority}_{which}"


class TargetsForm(forms.Form):
    """One service group's targets in working hours: a row per value segment (the first,
    for every segment, required), a column pair per priority."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for segment in SEGMENTS:
            for priority in PRIORITIES:
                for which, label in (("first", _("first response (h)")),
                                     ("resolve", _("resolution (h)"))):
                    self.fields[target_field(segment, priority, which)] = forms.DecimalField(
                        label=f"{SEGMENT_NAMES[segment]} · {PRIORITY_LABELS[priority]} · {label}",
                        required=not segment, min_value=Decimal("0.02"),
                        max_value=Decimal("1440"), decimal_places=2,
                        widget=forms.NumberInput(attrs={"step": "0.25", "class": "hours"}))

    @staticmethod
    def initial_for(table) -> dict:
        initial = {}
        for segment, by_priority in table.cells.items():
            for priority, target in by_priority.items():
                if target is not None:
                    initial[target_field(segment, priority, "first")] = _hours(
                        target.first_response_minutes)
                    initial[target_field(segment, priority, "resolve")] = _hours(
                        target.resolution_minutes)
        return initial

    def cells(self) -> dict:
        out = {}
        for segment in SEGMENTS:
            for priority in PRIORITIES:
                a = self.cleaned_data.get(target_field(segment, priority, "first"))
                b = self.cleaned_data.get(target_field(segment, priority, "resolve"))
                if a is None and b is None:
                    out[(segment, priority)] = None
                elif a is None or b is None:
                    which = "first" if a is None else "resolve"
                    self.add_error(target_field(segment, priority, which),
                                   _("Give both the first response and the resolution, or "
                                     "neither (the row for every segment then holds)."))
                else:
                    out[(segment, priority)] = (a, b)
        return out

    def grid(self):
        """Rows of (segment label, [(first field, resolve field) per priority])."""
        for segment in SEGMENTS:
            yield SEGMENT_NAMES[segment], [(self[target_field(segment, p, "first")],
                                     self[target_field(segment, p, "resolve")])
                                    for p in PRIORITIES]




def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize()


class ServiceGroupForm(forms.Form):
    service_group = forms.ChoiceField(
        label=_("Service group"), required=False,
        choices=[("", _("Follow the rule"))] + list(ServiceGroup.choices))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False,
                             help_text=_("Why this customer is served differently from the "
                                         "rule; required when you choose a group."))

