"""Business-time arithmetic: properties over random calendars, and named-zone tables."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quietdesk.schedule.hours import BusinessHours, NoOpenTime, Opening

UTC = dt.UTC
ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "UTC",
    "America/Santiago",
]


def at(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def office(zone: str, **kwargs) -> BusinessHours:
    """Monday to Friday, 09:00–12:00 and 13:00–17:00."""
    openings = [
        Opening(day, dt.time(start), dt.time(end))
        for day in range(5)
        for start, end in ((9, 12), (13, 17))
    ]
    return BusinessHours(zone, openings, **kwargs)


# --- Random calendars ----------------------------------------------------------------------


@st.composite
def calendars(draw) -> BusinessHours:
    zone = draw(st.sampled_from(ZONES))
    openings = []
    for day in range(7):
        # Up to three non-overlapping intervals a day; the last may run past midnight.
        cuts = sorted(draw(st.sets(st.integers(0, 47), max_size=6)))
        pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
        for start, end in pairs:
            openings.append(Opening(day, _half_hour(start), _half_hour(end)))
        if draw(st.booleans()) and day != 6 and not (pairs and pairs[-1][1] >= 44):
            openings.append(Opening(day, dt.time(22), dt.time(2), overnight=True))
    if not openings:
        openings.append(Opening(2, dt.time(10), dt.time(11)))
    weekly_holiday = draw(st.integers(0, 6))
    holidays_seen: set[dt.date] = set()

    def is_holiday(day: dt.date) -> bool:
        # A holiday every week: on a fixed weekday of every odd ISO week.
        holiday = day.weekday() == weekly_holiday and day.isocalendar().week % 2 == 1
        if holiday:
            holidays_seen.add(day)
        return holiday

    hours = BusinessHours(zone, openings, is_holiday=is_holiday)
    hours.holiday_test = is_holiday  # type: ignore[attr-defined]
    return hours


def _half_hour(index: int) -> dt.time:
    return dt.time(index // 2, 30 * (index % 2))


instants = st.datetimes(
    min_value=dt.datetime(2010, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.integers(min_value=0, max_value=400 * 3600).map(lambda s: dt.timedelta(seconds=s))
fine_durations = st.integers(min_value=0, max_value=10**11).map(
    lambda us: dt.timedelta(microseconds=us)
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _real_calendar(hours: BusinessHours) -> bool:
    """Calendars in which some open time exists (almost all generated ones)."""
    try:
        hours.next_opening(dt.datetime(2020, 1, 1, tzinfo=UTC))
    except NoOpenTime:
        return False
    return True


@PROPERTY
@given(calendars(), instants, durations, fine_durations)
def test_adding_a_then_b_equals_adding_a_plus_b(hours, start, a, b):
    assert hours.add(hours.add(start, a), b) == hours.add(start, a + b)


@PROPERTY
@given(calendars(), instants, durations)
def test_business_time_between_t_and_t_plus_s_is_s(hours, start, seconds):
    assert hours.between(start, hours.add(start, seconds)) == seconds


@PROPERTY
@given(calendars(), instants, st.integers(min_value=1, max_value=400 * 3600))
def test_a_due_time_falls_in_open_time_and_never_on_a_holiday(hours, start, seconds):
    due = hours.add(start, seconds)
    # The instant just before the due time is open: the due time ends open time.
    assert hours.is_open(due - dt.timedelta(microseconds=1))
    local_day = (due - dt.timedelta(microseconds=1)).astimezone(hours.zone).date()
    assert not hours.holiday_test(local_day)


@PROPERTY
@given(calendars(), instants, instants)
def test_between_is_antisymmetric_and_never_exceeds_wall_time(hours, a, b):
    assert hours.between(a, b) == -hours.between(b, a)
    assert abs(hours.between(a, b)) <= abs(b - a)


@PROPERTY
@given(calendars(), instants)
def test_next_opening_is_open_and_nothing_before_it_is(hours, start):
    opening = hours.next_opening(start)
    assert opening >= start
    assert hours.is_open(opening)
    assert hours.between(start, opening) == dt.timedelta(0)


# --- Named zones around their changes ---------------------------------------------------------


def test_paris_spring_forward_counts_the_real_hours():
    # 29 March 2026: 02:00 becomes 03:00. A 00:00–06:00 opening lasts five real hours.
    hours = BusinessHours("Europe/Paris", [Opening(6, dt.time(0), dt.time(6))])
    day = dt.date(2026, 3, 29)
    start = at("Europe/Paris", 2026, 3, 29, 0)
    assert hours.between(start, at("Europe/Paris", 2026, 3, 29, 6)) == dt.timedelta(hours=5)
    assert hours.add(start, dt.timedelta(hours=2)) == at("Europe/Paris", 2026, 3, 29, 3)
    assert hours.open_spans(day)[0][1] - hours.open_spans(day)[0][0] == dt.timedelta(hours=5)


def test_paris_fall_back_counts_the_repeated_hour():
    # 25 October 2026: 03:00 becomes 02:00 again; 00:00–06:00 lasts seven real hours.
    hours = BusinessHours("Europe/Paris", [Opening(6, dt.time(0), dt.time(6))])
    start = at("Europe/Paris", 2026, 10, 25, 0)
    assert hours.between(start, at("Europe/Paris", 2026, 10, 25, 6)) == dt.timedelta(hours=7)


def test_paris_office_due_time_over_the_weekend_of_the_change():
    hours = office("Europe/Paris")
    # Friday 27 March 2026, 16:00 + 3 business hours: 1 h Friday, 2 h on Monday.
    due = hours.add(at("Europe/Paris", 2026, 3, 27, 16), dt.timedelta(hours=3))
    assert due == at("Europe/Paris", 2026, 3, 30, 11)
    assert due.astimezone(UTC).hour == 9  # summer time from Sunday: UTC+2


def test_new_york_office_across_its_march_change():
    hours = office("America/New_York")
    # 8 March 2026 is the change; Friday 6 March 16:30 + 2 h = Monday 9 March 10:30 EDT.
    due = hours.add(at("America/New_York", 2026, 3, 6, 16, 30), dt.timedelta(hours=2))
    assert due == at("America/New_York", 2026, 3, 9, 10, 30)
    assert due.astimezone(UTC).hour == 14  # EDT is UTC-4


def test_lord_howe_half_hour_shift():
    # 5 April 2026, 02:00 local becomes 01:30 (DST ends, 30 minutes repeat).
    hours = BusinessHours("Australia/Lord_Howe", [Opening(6, dt.time(0), dt.time(4))])
    start = at("Australia/Lord_Howe", 2026, 4, 5, 0)
    assert hours.between(start, at("Australia/Lord_Howe", 2026, 4, 5, 4)) == dt.timedelta(
        hours=4, minutes=30
    )
    # 4 October 2026, 02:00 becomes 02:30: the morning is 30 minutes shorter.
    spring = at("Australia/Lord_Howe", 2026, 10, 4, 0)
    assert hours.between(spring, at("Australia/Lord_Howe", 2026, 10, 4, 4)) == dt.timedelta(
        hours=3, minutes=30
    )


def test_kathmandu_quarter_hour_offset():
    hours = office("Asia/Kathmandu")
    due = hours.add(at("Asia/Kathmandu", 2026, 11, 23, 16), dt.timedelta(hours=1, minutes=30))
    assert due == at("Asia/Kathmandu", 2026, 11, 24, 9, 30)
    assert due.astimezone(UTC) == dt.datetime(2026, 11, 24, 3, 45, tzinfo=UTC)


def test_apia_skipped_day_has_no_opening_hours():
    # Samoa skipped Friday 30 December 2011 entirely.
    hours = BusinessHours("Pacific/Apia", [Opening(d, dt.time(9), dt.time(17)) for d in range(7)])
    assert hours.open_spans(dt.date(2011, 12, 30)) == []
    start = at("Pacific/Apia", 2011, 12, 29, 16)
    due = hours.add(start, dt.timedelta(hours=2))
    assert due == at("Pacific/Apia", 2011, 12, 31, 10)
    assert hours.between(start, due) == dt.timedelta(hours=2)


def test_leap_day_is_an_ordinary_working_day():
    hours = office("UTC")
    due = hours.add(dt.datetime(2028, 2, 28, 16, tzinfo=UTC), dt.timedelta(hours=8))
    assert due == dt.datetime(2028, 2, 29, 17, tzinfo=UTC)  # 1 h Monday, 7 h on 29 February


def test_overnight_interval_and_holidays_close_the_whole_date():
    night = BusinessHours(
        "Europe/Paris",
        [Opening(d, dt.time(22), dt.time(2), overnight=True) for d in range(7)],
        is_holiday=lambda day: day == dt.date(2026, 12, 25),
    )
    start = at("Europe/Paris", 2026, 12, 24, 22)
    # 24th 22:00–24:00 counts; the 25th is a holiday from midnight, its night too.
    assert night.add(start, dt.timedelta(hours=3)) == at("Europe/Paris", 2026, 12, 26, 23)


def test_special_hours_and_closed_days():
    hours = office(
        "Europe/Paris",
        closed_days=[dt.date(2026, 11, 24)],
        special_hours={dt.date(2026, 11, 28): [(dt.time(10), dt.time(12), False)]},
    )
    start = at("Europe/Paris", 2026, 11, 23, 16)
    assert hours.add(start, dt.timedelta(hours=2)) == at("Europe/Paris", 2026, 11, 25, 10)
    friday = at("Europe/Paris", 2026, 11, 27, 16)
    # Saturday the 28th opens 10:00–12:00 specially.
    assert hours.add(friday, dt.timedelta(hours=2)) == at("Europe/Paris", 2026, 11, 28, 11)


def test_a_calendar_with_no_open_time_says_so_instead_of_looping():
    never = BusinessHours("UTC", [Opening(0, dt.time(9), dt.time(17))], is_holiday=lambda d: True)
    with pytest.raises(NoOpenTime):
        never.add(dt.datetime(2026, 1, 1, tzinfo=UTC), 60)
    with pytest.raises(NoOpenTime):
        never.next_opening(dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert never.between(
        dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC)
    ) == dt.timedelta(0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        office("UTC").add(dt.datetime(2026, 1, 1), 60)  # noqa: DTZ001 - the point of the test
