"""A ticket's service-level clock in a page: `{% load service_sla %}{% sla_badge ticket %}`
for a queue row, `{% sla_clock ticket %}` for the ticket page and the agent view. The working
time left is worked out at render from the saved clock (the firm's calendar loaded once per
page)."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.service.sla.calendar import load_calendar
from kehu.service.sla.groups import PROMISES
from kehu.service.sla.models import ClockState, TicketClock
from kehu.service.sla.tracking import live_left

register = template.Library()
CALENDAR = "_sla_calendar"


def duration(minutes: int | None) -> str:
    """Working time as people say it: 45 min, 3 h 20 min, 2 d 4 h (a day = 24 h)."""
    if minutes is None:
        return ""
    m = abs(int(minutes))
    days, rest = divmod(m, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def _clock_of(ticket) -> TicketClock | None:
    try:
        return ticket.sla
    except TicketClock.DoesNotExist:
        return None


def _state(context, ticket) -> dict:
    row = _clock_of(ticket)
    if row is None:
        return {"row": None}
    render = context.render_context
    if CALENDAR not in render:
        render[CALENDAR] = load_calendar()
    left = live_left(row, timezone.now(), render[CALENDAR]) if ticket.is_active else None
    if left is not None and row.next_due is not None and left < 0:
        state = ClockState.BREACHED
    elif row.paused and ticket.is_active:
        state = ClockState.PAUSED
    elif row.first_response_state in (ClockState.MET, ClockState.MISSED, ClockState.NONE):
        state = row.resolution_state
    else:
        state = row.first_response_state
    if state in (ClockState.RUNNING, ClockState.AT_RISK) and left is not None and \
            row.next_due is not None:
        budget = row.first_response_minutes if row.first_response_state not in (
            ClockState.MET, ClockState.MISSED, ClockState.NONE) else row.resolution_minutes
        state = ClockState.AT_RISK if budget and left <= budget * _warn_share(render) \
            else ClockState.RUNNING
    missed = ClockState.MISSED in (row.first_response_state, row.resolution_state)
    return {"row": row, "state": state, "state_label": ClockState(state).label,
            "left": left, "left_text": duration(left), "missed": missed,
            "promise": PROMISES.get(row.service_group, "")}


def _warn_share(render) -> float:
    from kehu.service.sla.calendar import hours_row

    if "_sla_warn" not in render:
        render["_sla_warn"] = hours_row().warn_percent / 100
    return render["_sla_warn"]


@register.inclusion_tag("service/sla/_badge.html", takes_context=True)
def sla_badge(context, ticket) -> dict:
    return _state(context, ticket)


@register.inclusion_tag("service/sla/_ticket_clock.html", takes_context=True)
def sla_clock(context, ticket) -> dict:
    return {**_state(context, ticket), "ticket": ticket}
