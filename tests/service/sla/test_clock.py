"""The service-level clock: working hours, holidays, make-up days, time zones with summer time,
overnight periods and pauses. Examples are checked by hand; properties by hypothesis."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kehu.service.sla import clock
from kehu.service.sla.clock import Calendar, ClockError, Period, due, elapsed, parse_periods

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = parse_periods("\n".join(f"{d} 09:00-18:00" for d in range(5)))


def at(zone, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def office(zone="Asia/Shanghai", **kw) -> Calendar:
    return Calendar(zone, OFFICE, **kw)


# Examples -------------------------------------------------------------------------------

def test_it_counts_only_the_office_hours_of_a_weekday():
    cal = office()
    # Friday 2026-12-04 17:00 → Monday 10:00: one hour on Friday, one on Monday.
    assert elapsed(cal, at(SH, 2026, 12, 4, 17), at(SH, 2026, 12, 7, 10)) == 2 * H


def test_a_budget_runs_over_the_weekend_into_monday():
    cal = office()
    assert due(cal, at(SH, 2026, 12, 4, 17), 2 * H) == at(SH, 2026, 12, 7, 10).astimezone(
        clock.UTC)


def test_a_ticket_opened_at_night_starts_its_clock_next_morning():
    cal = office()
    assert due(cal, at(SH, 2026, 12, 1, 22), 30 * M) == at(SH, 2026, 12, 2, 9, 30)


def test_a_holiday_is_not_worked_and_a_makeup_saturday_is():
    # National Day week: Thursday 1 October 2026 is a holiday; Saturday 10 October is worked
    # with a Monday's hours (调休).
    cal = office(holidays=frozenset({dt.date(2026, 10, 1)}),
                 makeup_days=frozenset({dt.date(2026, 10, 10)}), makeup_as=0)
    assert elapsed(cal, at(SH, 2026, 9, 30, 17), at(SH, 2026, 10, 2, 10)) == 2 * H
    assert due(cal, at(SH, 2026, 10, 9, 17), 2 * H) == at(SH, 2026, 10, 10, 10)


def test_the_working_day_follows_the_firms_time_zone_not_utc():
    # 09:00–18:00 in Shanghai is 01:00–10:00 UTC.
    cal = office()
    start = dt.datetime(2026, 12, 1, 0, 0, tzinfo=clock.UTC)
    assert due(cal, start, 1 * H) == dt.datetime(2026, 12, 1, 2, 0, tzinfo=clock.UTC)
    assert elapsed(office("UTC"), start, start + 24 * H) == 9 * H


def test_a_spring_forward_night_shift_is_an_hour_shorter_and_an_autumn_one_longer():
    night = Calendar("Europe/Berlin", parse_periods("\n".join(f"{d} 22:00-06:00"
                                                              for d in range(7))))
    # Summer time starts at 02:00 on Sunday 29 March 2026, ends at 03:00 on 25 October.
    assert elapsed(night, at(BERLIN, 2026, 3, 28, 12), at(BERLIN, 2026, 3, 29, 12)) == 7 * H
    assert elapsed(night, at(BERLIN, 2026, 10, 24, 12), at(BERLIN, 2026, 10, 25, 12)) == 9 * H
    assert elapsed(night, at(BERLIN, 2026, 3, 20, 12), at(BERLIN, 2026, 3, 21, 12)) == 8 * H


def test_an_office_day_across_the_summer_time_change_keeps_its_local_hours():
    cal = Calendar("America/New_York", parse_periods("\n".join(f"{d} 09:00-17:00"
                                                               for d in range(7))))
    # 8 March 2026: clocks go forward at 02:00; the office still opens 09:00 local.
    assert due(cal, at(NY, 2026, 3, 7, 16), 2 * H) == at(NY, 2026, 3, 8, 10)
    assert elapsed(cal, at(NY, 2026, 3, 7, 0), at(NY, 2026, 3, 9, 0)) == 16 * H


def test_a_round_the_clock_calendar_loses_an_hour_on_the_spring_sunday():
    cal = Calendar("Europe/Berlin", tuple(Period(d, dt.time(0), dt.time(0)) for d in range(7)))
    assert elapsed(cal, at(BERLIN, 2026, 3, 29, 0), at(BERLIN, 2026, 3, 30, 0)) == 23 * H


def test_waiting_for_the_customer_pauses_the_clock():
    cal = office()
    start = at(SH, 2026, 12, 1, 9)
    pauses = [(at(SH, 2026, 12, 1, 10), at(SH, 2026, 12, 2, 11))]
    # 1 h before the pause; the pause eats 8 h of Tuesday and 2 of Wednesday.
    assert elapsed(cal, start, at(SH, 2026, 12, 2, 12), pauses) == 2 * H
    assert due(cal, start, 4 * H, pauses) == at(SH, 2026, 12, 2, 14)


def test_a_clock_still_waiting_has_no_due_time_and_stops_counting():
    cal = office()
    start = at(SH, 2026, 12, 1, 9)
    waiting = [(at(SH, 2026, 12, 1, 10), None)]
    assert due(cal, start, 4 * H, waiting) is None
    assert elapsed(cal, start, at(SH, 2026, 12, 3, 12), waiting) == 1 * H
    # A budget that runs out before the pause began still has its due time.
    assert due(cal, start, 30 * M, waiting) == at(SH, 2026, 12, 1, 9, 30)


def test_remaining_is_negative_once_overdue():
    cal = office()
    start = at(SH, 2026, 12, 1, 9)
    due_at = due(cal, start, 2 * H)
    assert clock.remaining(cal, at(SH, 2026, 12, 1, 10), due_at, start, 2 * H) == 1 * H
    assert clock.remaining(cal, at(SH, 2026, 12, 2, 10), due_at, start, 2 * H) == -8 * H


def test_it_refuses_what_it_cannot_count_with_a_clear_message():
    with pytest.raises(ClockError, match="unknown time zone 'Mars/Olympus'"):
        Calendar("Mars/Olympus")
    with pytest.raises(ClockError, match="timezone-aware"):
        elapsed(office(), dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))
    with pytest.raises(ClockError, match="no working hours"):
        due(Calendar("UTC"), at(SH, 2026, 1, 1), H)
    with pytest.raises(ClockError, match="ends .* before it starts"):
        elapsed(office(), at(SH, 2026, 1, 1), at(SH, 2026, 1, 2),
                [(at(SH, 2026, 1, 1, 12), at(SH, 2026, 1, 1, 10))])
    with pytest.raises(ClockError, match="weekday"):
        Period(7, dt.time(9), dt.time(17))
    # Every day a holiday: no due time within three years, said as such.
    everyday = office(holidays=frozenset(dt.date(2026, 1, 1) + dt.timedelta(days=i)
                                         for i in range(1200)))
    with pytest.raises(ClockError, match="no working time within"):
        due(everyday, at(SH, 2026, 1, 1), H)


def test_the_clock_imports_no_django():
    code = ("import sys, kehu.service.sla.clock; "
            "sys.exit(1 if any(m.startswith('django') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# Properties -----------------------------------------------------------------------------

ZONES = st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC",
                         "Australia/Lord_Howe", "America/Sao_Paulo"])
TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0, tzinfo=None))


@st.composite
def calendars(draw) -> Calendar:
    periods = []
    for day in range(7):
        for _ in range(draw(st.integers(0, 2))):
            start, end = draw(TIMES), draw(TIMES)
            assume(start != end or start == dt.time(0))
            periods.append(Period(day, start, end))
    assume(periods)
    base = dt.date(2026, 1, 1)
    holidays = frozenset(base + dt.timedelta(days=d)
                         for d in draw(st.lists(st.integers(0, 400), max_size=20)))
    makeup = frozenset(base + dt.timedelta(days=d)
                       for d in draw(st.lists(st.integers(0, 400), max_size=5)))
    return Calendar(draw(ZONES), tuple(periods), holidays, makeup, draw(st.integers(0, 6)))


INSTANTS = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1),
                        timezones=st.just(clock.UTC))
BUDGETS = st.integers(0, 60 * 80).map(lambda m: dt.timedelta(minutes=m))


@st.composite
def pause_lists(draw, start):
    out = []
    for _ in range(draw(st.integers(0, 3))):
        a = start + dt.timedelta(minutes=draw(st.integers(-600, 20000)))
        out.append((a, a + dt.timedelta(minutes=draw(st.integers(0, 5000)))))
    return out


@given(calendars(), INSTANTS, BUDGETS, st.data())
def test_the_due_time_is_exactly_the_budget_of_working_time_away(cal, start, budget, data):
    pauses = data.draw(pause_lists(start))
    end = due(cal, start, budget, pauses)
    assert end is not None and end >= start
    assert elapsed(cal, start, end, pauses) == budget


@given(calendars(), INSTANTS, st.integers(0, 20000), st.integers(0, 20000), st.data())
def test_working_time_adds_up_over_consecutive_spans(cal, a, x, y, data):
    b = a + dt.timedelta(minutes=x)
    c = b + dt.timedelta(minutes=y)
    pauses = data.draw(pause_lists(a))
    assert elapsed(cal, a, b, pauses) + elapsed(cal, b, c, pauses) == elapsed(cal, a, c, pauses)
    assert elapsed(cal, a, c, pauses) <= c - a


@given(calendars(), INSTANTS, BUDGETS, BUDGETS)
def test_a_bigger_budget_is_never_due_sooner(cal, start, b1, b2):
    small, big = sorted((b1, b2))
    assert due(cal, start, small) <= due(cal, start, big)


@given(ZONES, INSTANTS, st.integers(0, 20000), st.data())
def test_round_the_clock_working_time_is_wall_time_less_the_pauses(zone, a, minutes, data):
    cal = clock.always(zone)
    b = a + dt.timedelta(minutes=minutes)
    pauses = data.draw(pause_lists(a))
    paused = sum((min(q, b) - max(p, a) for p, q in clock._merge(pauses) if min(q, b) > max(p, a)),
                 dt.timedelta(0))
    assert elapsed(cal, a, b, pauses) == (b - a) - paused


@given(calendars(), INSTANTS, BUDGETS, st.integers(0, 3000))
def test_an_open_pause_stops_the_clock_where_it_began(cal, start, budget, after):
    pause_start = start + dt.timedelta(minutes=after)
    used = elapsed(cal, start, pause_start)
    result = due(cal, start, budget, [(pause_start, None)])
    if budget == dt.timedelta(0) or budget <= used:
        assert result is not None and result <= pause_start
    else:
        assert result is None
