"""The service-level clock: working time between two instants, and the instant a working-time
budget runs out. Pure Python (no Django), so that it can be tested on its own.

Working time follows the firm's calendar: weekly working periods in local time (a period whose
end is not after its start runs overnight into the next day), holidays (no work that day, the
periods that start on it included), make-up working days (调休: a weekend day worked with the
hours of an ordinary weekday), all in one time zone, so that summer time and its one-hour
jumps are counted as the hours that really pass. A clock also pauses: over each pause interval
(the ticket waits for the customer) no time counts; a pause whose end is None is still running.

All instants are timezone-aware; the results are in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
Interval = tuple[dt.datetime, dt.datetime]
Pause = tuple[dt.datetime, "dt.datetime | None"]
# A due instant further away than this is a calendar without working time, not a deadline.
SEARCH_LIMIT = dt.timedelta(days=3 * 366)
ZERO = dt.timedelta(0)


class ClockError(ValueError):
    """A calendar or an input the clock cannot work with; the message says which."""


@dataclass(frozen=True)
class Period:
    """Working time on one weekday (0 = Monday), local; end <= start runs overnight."""

    weekday: int
    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ClockError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        if self.start == self.end and self.start != dt.time(0):
            raise ClockError(f"a period from {self.start} to {self.end} is empty; "
                             "use 00:00 to 00:00 for a whole day")

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "Asia/Shanghai"
    periods: tuple[Period, ...] = ()
    holidays: frozenset[dt.date] = frozenset()
    # Days worked although their weekday has no periods (调休), with the hours of `makeup_as`.
    makeup_days: frozenset[dt.date] = frozenset()
    makeup_as: int = 0
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ClockError(f"unknown time zone {self.time_zone!r}") from None
        object.__setattr__(self, "_zone", zone)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def has_working_time(self) -> bool:
        return bool(self.periods)

    def periods_of(self, day: dt.date) -> list[Period]:
        """The periods that start on the local date `day`."""
        if day in self.holidays:
            return []
        weekday = self.makeup_as if day in self.makeup_days else day.weekday()
        return [p for p in self.periods if p.weekday == weekday]

    def _local(self, day: dt.date, time: dt.time) -> dt.datetime:
        # fold=0: a wall time that happens twice (autumn) is its first occurrence; one that
        # never happens (spring) is read with the offset before the jump, i.e. just after it.
        return dt.datetime.combine(day, time, tzinfo=self._zone).astimezone(UTC)

    def day_intervals(self, day: dt.date) -> list[Interval]:
        out = []
        for p in self.periods_of(day):
            start = self._local(day, p.start)
            end = self._local(day + dt.timedelta(days=1) if p.overnight else day, p.end)
            if end > start:
                out.append((start, end))
        return out


def always(time_zone: str = "UTC") -> Calendar:
    """Round the clock, every day: working time is wall time."""
    return Calendar(time_zone, tuple(Period(d, dt.time(0), dt.time(0)) for d in range(7)))


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClockError(f"{name} must be timezone-aware, not {value.isoformat()}")
    return value.astimezone(UTC)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def working_intervals(calendar: Calendar, start: dt.datetime,
                      end: dt.datetime | None = None) -> Iterator[Interval]:
    """The working intervals from `start` (up to `end`, or on and on), clipped, in order,
    non-overlapping."""
    start = _aware(start, "start")
    end = None if end is None else _aware(end, "end")
    if end is not None and end <= start:
        return
    if not calendar.has_working_time:
        return
    # An overnight period of the day before may still run at `start`.
    day = start.astimezone(calendar.zone).date() - dt.timedelta(days=1)
    last_day = None if end is None else end.astimezone(calendar.zone).date()
    carry: Interval | None = None
    while last_day is None or day <= last_day:
        for a, b in _merge(calendar.day_intervals(day)):
            a, b = max(a, start), b if end is None else min(b, end)
            if b <= a:
                continue
            if carry is not None and a <= carry[1]:
                carry = (carry[0], max(carry[1], b))
                continue
            if carry is not None:
                yield carry
            carry = (a, b)
        day += dt.timedelta(days=1)
        if end is None and day - start.date() > SEARCH_LIMIT:
            break
    if carry is not None:
        yield carry


def _pauses(pauses: Iterable[Pause], until: dt.datetime) -> list[Interval]:
    out = []
    for i, (a, b) in enumerate(pauses):
        a = _aware(a, f"pause {i + 1} start")
        b = until if b is None else _aware(b, f"pause {i + 1} end")
        if b < a:
            raise ClockError(f"pause {i + 1} ends ({b.isoformat()}) before it starts "
                             f"({a.isoformat()})")
        out.append((a, b))
    return _merge(out)


def _subtract(interval: Interval, pauses: list[Interval]) -> Iterator[Interval]:
    a, b = interval
    for p, q in pauses:
        if q <= a:
            continue
        if p >= b:
            break
        if p > a:
            yield a, p
        a = max(a, q)
        if a >= b:
            return
    if a < b:
        yield a, b


def elapsed(calendar: Calendar, start: dt.datetime, end: dt.datetime,
            pauses: Iterable[Pause] = ()) -> dt.timedelta:
    """Working time between `start` and `end`, the pauses left out (zero if end <= start)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return ZERO
    stops = _pauses(pauses, end)
    total = ZERO
    for interval in working_intervals(calendar, start, end):
        for a, b in _subtract(interval, stops):
            total += b - a
    return total


def due(calendar: Calendar, start: dt.datetime, budget: dt.timedelta,
        pauses: Iterable[Pause] = ()) -> dt.datetime | None:
    """The instant at which `budget` of working time has run from `start`, the pauses left
    out; None while a pause without an end (still waiting) stops the clock before then."""
    start = _aware(start, "start")
    if budget < ZERO:
        raise ClockError(f"a budget cannot be negative ({budget})")
    pause_list = list(pauses)
    open_pause = next((_aware(a, "pause start") for a, b in pause_list if b is None), None)
    if budget == ZERO:
        return start
    if not calendar.has_working_time:
        raise ClockError("the calendar has no working hours, so no budget ever runs out")
    horizon = max([start] + [_aware(b, "pause end") for a, b in pause_list if b is not None])
    stops = _pauses([(a, b) for a, b in pause_list if b is not None], horizon)
    if open_pause is not None:
        stops = _merge(stops + [(open_pause, dt.datetime.max.replace(tzinfo=UTC))])
    left = budget
    for interval in working_intervals(calendar, start):
        if open_pause is not None and interval[0] >= open_pause:
            return None  # everything from here on is paused: the clock stands still
        for a, b in _subtract(interval, stops):
            if b - a >= left:
                return a + left
            left -= b - a
    if open_pause is not None:
        return None
    raise ClockError(f"no working time within {SEARCH_LIMIT.days} days of {start.isoformat()}")


def remaining(calendar: Calendar, now: dt.datetime, due_at: dt.datetime | None,
              start: dt.datetime, budget: dt.timedelta,
              pauses: Iterable[Pause] = ()) -> dt.timedelta:
    """Working time left at `now` (negative once overdue: the working time since due)."""
    pause_list = list(pauses)
    if due_at is None:
        return budget - elapsed(calendar, start, now, pause_list)
    now = _aware(now, "now")
    if now <= due_at:
        return elapsed(calendar, now, due_at, pause_list)
    return -elapsed(calendar, due_at, now, pause_list)


def parse_periods(text: str) -> tuple[Period, ...]:
    """Periods from "0 09:00-18:00" lines (weekday, local start-end); for tests and the demo."""
    out = []
    for line in text.strip().splitlines():
        day, span = line.split()
        a, b = span.split("-")
        out.append(Period(int(day), dt.time.fromisoformat(a), dt.time.fromisoformat(b)))
    return tuple(out)
