"""Business-time arithmetic: when a team is open, and what "N business hours" means.

Pure Python, no database: a :class:`BusinessHours` is built once from a calendar's rows
(see ``schedule.services.business_hours``) and answers four questions:

* :meth:`~BusinessHours.add` — the instant that is ``n`` business seconds after ``t``;
* :meth:`~BusinessHours.between` — business seconds between two instants;
* :meth:`~BusinessHours.next_opening` — ``t`` itself when open, else the next opening;
* :meth:`~BusinessHours.is_open` — whether the team is open at ``t``.

Rules, in the calendar's own time zone:

* Opening hours are given per weekday as wall-clock intervals. An ``overnight``
  interval ends on the next day (22:00–02:00; 09:00–09:00 is a full 24 hours); any
  other interval ends after it starts, the same day. An interval belongs to the day it
  starts on.
* A holiday (from the ``holidays`` package, by country and subdivision) or a custom
  closed day is closed from its midnight to the next, including the part of the
  previous evening's interval that runs past midnight into it. Special opening hours
  for a date replace that date's weekly hours, holiday or not (none means closed).
* Wall-clock times are turned into instants with ``fold=0``: a time that a DST change
  skips is read with the offset before the change (02:30 on the night clocks jump from
  02:00 to 03:00 is 03:30), a repeated time is its first occurrence. A date that does
  not exist at all (Pacific/Apia skipped 30 December 2011) has no opening hours.
* Instants are handled as integer microseconds since the epoch, so arithmetic is exact:
  ``add(add(t, a), b) == add(t, a + b)`` and ``between(t, add(t, s)) == s``.
* A calendar with no open time in a long stretch (``MAX_CLOSED_DAYS``) raises
  :class:`NoOpenTime` instead of searching forever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = dt.timedelta(microseconds=1)
#: A calendar that stays closed this many days in a row is treated as never open.
MAX_CLOSED_DAYS = 800

Span = tuple[int, int]  # [start, end) in microseconds since the epoch


class NoOpenTime(ValueError):
    """The calendar has no open time in the stretch searched."""


@dataclass(frozen=True, slots=True)
class Opening:
    """A wall-clock interval on a weekday (0 = Monday), or on a date for special hours."""

    weekday: int
    start: dt.time
    end: dt.time
    overnight: bool = False

    @property
    def wall(self) -> Wall:
        return (self.start, self.end, self.overnight)


Wall = tuple[dt.time, dt.time, bool]  # start, end, ends the next day


def to_us(instant: dt.datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("Business-time arithmetic needs aware datetimes.")
    return (instant - EPOCH) // ONE_US


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=us)


class BusinessHours:
    def __init__(
        self,
        time_zone: str,
        openings: Iterable[Opening],
        *,
        is_holiday: Callable[[dt.date], bool] = lambda day: False,
        closed_days: Iterable[dt.date] = (),
        special_hours: Mapping[dt.date, Iterable[Wall]] | None = None,
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self._weekly: list[list[Wall]] = [[] for _ in range(7)]
        for opening in openings:
            self._weekly[opening.weekday].append(opening.wall)
        for day in self._weekly:
            day.sort()
        self._is_holiday = is_holiday
        self._closed = frozenset(closed_days)
        self._special = {day: sorted(spans) for day, spans in (special_hours or {}).items()}
        self._days: dict[int, tuple[Span, ...]] = {}

    # --- The four questions -----------------------------------------------------------

    def add(self, start: dt.datetime, seconds: float | dt.timedelta) -> dt.datetime:
        """The instant at which ``seconds`` of open time have passed since ``start``."""
        remaining = _as_us(seconds)
        if remaining < 0:
            raise ValueError("Cannot add a negative business duration.")
        cursor = to_us(start)
        if remaining == 0:
            return start
        ordinal = self._local_ordinal(cursor) - 1  # yesterday's spans may run into today
        closed_run = 0
        while True:
            spans = self._spans(ordinal)
            for span_start, span_end in spans:
                if span_end <= cursor:
                    continue
                if span_start > cursor:
                    cursor = span_start
                available = span_end - cursor
                if available >= remaining:
                    return from_us(cursor + remaining)
                remaining -= available
                cursor = span_end
            closed_run = 0 if spans else closed_run + 1
            if closed_run > MAX_CLOSED_DAYS:
                raise NoOpenTime("This calendar has no open time.")
            ordinal += 1

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Open time from ``start`` to ``end``; negative when ``end`` comes first."""
        a, b = to_us(start), to_us(end)
        if b < a:
            return -self.between(end, start)
        total = 0
        cursor = a
        ordinal = self._local_ordinal(a) - 1
        last = self._local_ordinal(b)
        while ordinal <= last:
            for span_start, span_end in self._spans(ordinal):
                lo, hi = max(span_start, cursor), min(span_end, b)
                if hi > lo:
                    total += hi - lo
                    cursor = hi
            ordinal += 1
        return dt.timedelta(microseconds=total)

    def next_opening(self, instant: dt.datetime) -> dt.datetime:
        """``instant`` when open, else the moment the calendar next opens."""
        at = to_us(instant)
        ordinal = self._local_ordinal(at) - 1
        closed_run = 0
        while True:
            spans = self._spans(ordinal)
            for span_start, span_end in spans:
                if span_end > at:
                    return instant if span_start <= at else from_us(span_start)
            closed_run = 0 if spans else closed_run + 1
            if closed_run > MAX_CLOSED_DAYS:
                raise NoOpenTime("This calendar has no open time.")
            ordinal += 1

    def is_open(self, instant: dt.datetime) -> bool:
        at = to_us(instant)
        ordinal = self._local_ordinal(at)
        return any(
            start <= at < end for day in (ordinal - 1, ordinal) for start, end in self._spans(day)
        )

    def open_spans(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals that start on local ``day``, as aware UTC datetimes."""
        return [(from_us(a), from_us(b)) for a, b in self._spans(day.toordinal())]

    # --- Days -------------------------------------------------------------------------

    def _local_ordinal(self, us: int) -> int:
        return from_us(us).astimezone(self.zone).date().toordinal()

    def _spans(self, ordinal: int) -> tuple[Span, ...]:
        spans = self._days.get(ordinal)
        if spans is None:
            spans = self._days[ordinal] = self._compute_spans(dt.date.fromordinal(ordinal))
        return spans

    def _closed_all_day(self, day: dt.date) -> bool:
        if day in self._special:
            return False
        return day in self._closed or self._is_holiday(day)

    def _wall_times(self, day: dt.date) -> list[Wall]:
        if day in self._special:
            return self._special[day]
        if self._closed_all_day(day):
            return []
        return self._weekly[day.weekday()]

    def _compute_spans(self, day: dt.date) -> tuple[Span, ...]:
        wall = self._wall_times(day)
        if not wall or not self._exists(day):
            return ()
        tomorrow = day + dt.timedelta(days=1)
        # The part of an overnight interval that runs into a closed day is closed.
        stop_at_midnight = self._closed_all_day(tomorrow)
        midnight = self._instant(tomorrow, dt.time(0))
        spans = []
        for start, end, overnight in wall:
            a = self._instant(day, start)
            b = self._instant(tomorrow if overnight else day, end)
            if overnight and stop_at_midnight:
                b = min(b, midnight)
            if b > a:
                spans.append((a, b))
        return tuple(spans)

    def _instant(self, day: dt.date, time: dt.time) -> int:
        return to_us(dt.datetime.combine(day, time, tzinfo=self.zone))

    def _exists(self, day: dt.date) -> bool:
        """False for a local date a time-zone change skipped entirely."""
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=self.zone)
        return noon.astimezone(UTC).astimezone(self.zone).date() == day


def _as_us(seconds: float | dt.timedelta) -> int:
    if isinstance(seconds, dt.timedelta):
        return seconds // ONE_US
    return round(seconds * 1_000_000)
