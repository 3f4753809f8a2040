"""Calendars: checked, stored and turned into business-time arithmetic.

Every change goes through :func:`save_calendar`, which validates everything before it
writes anything, records an audit event and asks for the SLA due times of open tickets
to be recomputed (in bulk, in the background).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quietdesk import access, events
from quietdesk.accounts.models import Team, User, validate_time_zone
from quietdesk.audit.services import record
from quietdesk.errors import ValidationFailed
from quietdesk.schedule.hours import BusinessHours, Opening, Wall
from quietdesk.schedule.models import (
    DEFAULT_CALENDAR_NAME,
    WEEKDAYS,
    Calendar,
    OpeningHours,
    SpecialDay,
)

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@dataclass(frozen=True)
class SpecialDayIn:
    date: dt.date
    name: str = ""
    hours: Sequence[Wall] = ()


@dataclass
class CalendarIn:
    """Everything a calendar holds; validated as a whole by :func:`check_calendar`."""

    name: str
    time_zone: str
    openings: Sequence[Opening]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    special_days: Sequence[SpecialDayIn] = field(default_factory=tuple)
    is_default: bool = False


# --- Validation ----------------------------------------------------------------------


def check_calendar(data: CalendarIn) -> None:
    """Raise ValidationFailed naming every field that is wrong; return when all is fine."""
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("A calendar needs a name.")
    try:
        validate_time_zone(data.time_zone)
    except ValidationError as exc:
        errors["time_zone"] = exc.messages[0]
    country_error = _check_holidays(data.holiday_country, data.holiday_subdivision)
    if country_error:
        errors.update(country_error)
    errors.update(check_openings(data.openings))
    seen: set[dt.date] = set()
    for index, day in enumerate(data.special_days):
        name = f"special_days[{index}]"
        if day.date in seen:
            errors[f"{name}.date"] = _("%(date)s is listed twice.") % {"date": day.date.isoformat()}
        seen.add(day.date)
        spans = [Opening(0, start, end, overnight) for start, end, overnight in day.hours]
        for key, message in check_openings(spans, allow_empty=True).items():
            errors[f"{name}.hours{key.removeprefix('openings')}"] = message
    if errors:
        raise ValidationFailed(errors)


def _check_holidays(country: str, subdivision: str) -> dict[str, str]:
    if not country:
        if subdivision:
            return {"holiday_subdivision": _("A region needs a country.")}
        return {}
    supported = holidays.list_supported_countries()
    if country.upper() not in supported:
        return {
            "holiday_country": _(
                "%(country)s has no public holiday list; use an ISO 3166 code such as FR."
            )
            % {"country": country}
        }
    regions = supported[country.upper()]
    if subdivision and subdivision not in regions:
        return {
            "holiday_subdivision": _("%(region)s is not a region of %(country)s; known: %(known)s.")
            % {"region": subdivision, "country": country.upper(), "known": ", ".join(regions)}
        }
    return {}


def check_openings(openings: Sequence[Opening], *, allow_empty: bool = False) -> dict[str, str]:
    """Errors by field for a week of opening intervals (or one day's special hours)."""
    errors: dict[str, str] = {}
    if not openings and not allow_empty:
        return {"openings": _("A calendar needs at least one opening interval.")}
    placed: list[tuple[int, int, int]] = []  # start minute of week, end, index
    for index, opening in enumerate(openings):
        name = f"openings[{index}]"
        if not 0 <= opening.weekday <= 6:
            errors[f"{name}.weekday"] = _("Weekday must be one of: %(days)s.") % {
                "days": ", ".join(WEEKDAYS)
            }
            continue
        start = opening.start.hour * 60 + opening.start.minute
        end = opening.end.hour * 60 + opening.end.minute
        if opening.overnight:
            if end > start:
                errors[f"{name}.end"] = _(
                    "An interval that closes the next day must close no later than it opened."
                )
                continue
            end += MINUTES_PER_DAY
        elif end <= start:
            errors[f"{name}.end"] = _(
                "The interval closes before it opens; mark it as closing the next day "
                "if it runs past midnight."
            )
            continue
        offset = opening.weekday * MINUTES_PER_DAY
        placed.append((offset + start, offset + end, index))
    placed.sort()
    # Compare each interval with the next, and the last with the first a week later.
    for (a_start, a_end, a_index), (b_start, _b_end, b_index) in zip(
        placed, [*placed[1:], *placed[:1]], strict=True
    ):
        if len(placed) < 2:
            break
        wraps = b_start <= a_start
        if a_end > b_start + (MINUTES_PER_WEEK if wraps else 0):
            errors[f"openings[{max(a_index, b_index)}].start"] = _(
                "This interval overlaps another one."
            )
    return errors


# --- Reading calendars ---------------------------------------------------------------


def default_calendar() -> Calendar:
    """The installation's default calendar; a built-in one when none is stored."""
    calendar = Calendar.objects.filter(is_default=True).first()
    if calendar is None:
        calendar = Calendar(
            public_id="built-in",  # one version for the cache, whatever the call
            name=DEFAULT_CALENDAR_NAME,
            time_zone=settings.TIME_ZONE,
            is_default=True,
        )
        calendar.updated_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return calendar


def calendar_for_team(team: Team | None) -> Calendar:
    if team is not None and team.calendar is not None:
        return team.calendar
    return default_calendar()


STANDARD_OPENINGS = tuple(Opening(day, dt.time(9), dt.time(18)) for day in range(5))

_cache: dict[tuple[str, dt.datetime], BusinessHours] = {}
_cache_lock = threading.Lock()


def business_hours(calendar: Calendar) -> BusinessHours:
    """The arithmetic for ``calendar``, built once per version and kept per process.

    A version is the calendar's public id (never reused, unlike a SQLite row id) and the
    time of its last change (strictly increasing: see :func:`save_calendar`)."""
    key = (calendar.public_id, calendar.updated_at)
    with _cache_lock:
        found = _cache.get(key)
    if found is not None:
        return found
    built = _build(calendar)
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = built
    return built


def _build(calendar: Calendar) -> BusinessHours:
    if calendar.pk is None:
        return BusinessHours(calendar.time_zone, STANDARD_OPENINGS)
    openings = [
        Opening(row.weekday, row.start, row.end, row.overnight) for row in calendar.openings.all()
    ]
    special = {row.date: [_wall(item) for item in row.hours] for row in calendar.special_days.all()}
    closed = [day for day, hours in special.items() if not hours]
    for day in closed:
        del special[day]
    return BusinessHours(
        calendar.time_zone,
        openings,
        is_holiday=_holiday_test(calendar.holiday_country, calendar.holiday_subdivision),
        closed_days=closed,
        special_hours=special,
    )


def _holiday_test(country: str, subdivision: str) -> Any:
    if not country:
        return lambda day: False

    @functools.cache
    def year(number: int) -> frozenset[dt.date]:
        table = holidays.country_holidays(country.upper(), subdiv=subdivision or None, years=number)
        return frozenset(table.keys())

    return lambda day: day in year(day.year)


def _wall(item: Sequence[Any]) -> Wall:
    start, end, *rest = item
    return (dt.time.fromisoformat(start), dt.time.fromisoformat(end), bool(rest and rest[0]))


# --- Writing calendars ---------------------------------------------------------------


def save_calendar(*, actor: User, data: CalendarIn, calendar: Calendar | None = None) -> Calendar:
    """Create ``data`` as a new calendar, or replace ``calendar``'s contents with it."""
    access.require_admin(actor)
    check_calendar(data)
    clash = Calendar.objects.filter(name=data.name.strip())
    if calendar is not None:
        clash = clash.exclude(pk=calendar.pk)
    if clash.exists():
        raise ValidationFailed({"name": _("Another calendar already has this name.")})
    before = snapshot(calendar) if calendar is not None else None
    with transaction.atomic():
        if data.is_default:
            Calendar.objects.filter(is_default=True).update(is_default=False)
        if calendar is None:
            calendar = Calendar()
        calendar.name = data.name.strip()
        calendar.time_zone = data.time_zone
        calendar.holiday_country = data.holiday_country.upper()
        calendar.holiday_subdivision = data.holiday_subdivision
        calendar.is_default = data.is_default or (calendar.pk is not None and calendar.is_default)
        # Strictly later than the version it replaces, even if the clock says otherwise.
        calendar.updated_at = max(
            timezone.now(), calendar.updated_at + dt.timedelta(microseconds=1)
        )
        calendar.save()
        calendar.openings.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(
                calendar=calendar,
                weekday=o.weekday,
                start=o.start,
                end=o.end,
                overnight=o.overnight,
            )
            for o in data.openings
        )
        calendar.special_days.all().delete()
        SpecialDay.objects.bulk_create(
            SpecialDay(
                calendar=calendar,
                date=day.date,
                name=day.name[:100],
                hours=[
                    [s.isoformat("minutes"), e.isoformat("minutes"), o] for s, e, o in day.hours
                ],
            )
            for day in data.special_days
        )
        record(
            actor=actor,
            verb="calendar.changed" if before else "calendar.created",
            target=calendar,
            before=before,
            after=snapshot(calendar),
        )
        events.emit("calendar.changed", calendar_id=calendar.pk)
    return calendar


def set_team_calendar(*, actor: User, team: Team, calendar: Calendar | None) -> Team:
    access.require_admin(actor)
    with transaction.atomic():
        before = {"calendar": team.calendar.public_id if team.calendar else None}
        team.calendar = calendar
        team.save(update_fields=["calendar"])
        record(
            actor=actor,
            verb="team.calendar_changed",
            target=team,
            before=before,
            after={"calendar": calendar.public_id if calendar else None},
        )
        events.emit("calendar.changed", calendar_id=calendar.pk if calendar else None)
    return team


def delete_calendar(*, actor: User, calendar: Calendar) -> None:
    access.require_admin(actor)
    if calendar.is_default:
        raise ValidationFailed(
            {"is_default": _("Choose another default calendar before deleting this one.")}
        )
    with transaction.atomic():
        record(actor=actor, verb="calendar.deleted", target=calendar, before=snapshot(calendar))
        calendar.delete()
        events.emit("calendar.changed", calendar_id=None)


def snapshot(calendar: Calendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "is_default": calendar.is_default,
        "openings": [
            [
                WEEKDAYS[o.weekday],
                o.start.isoformat("minutes"),
                o.end.isoformat("minutes"),
                o.overnight,
            ]
            for o in calendar.openings.all()
        ],
        "special_days": [
            [d.date.isoformat(), d.name, d.hours] for d in calendar.special_days.all()
        ],
    }


def openings_from(rows: Iterable[tuple[str, str, str, bool]]) -> list[Opening]:
    """``(weekday name, "HH:MM", "HH:MM", overnight)`` rows as openings."""
    return [
        Opening(
            WEEKDAYS.index(day), dt.time.fromisoformat(start), dt.time.fromisoformat(end), overnight
        )
        for day, start, end, overnight in rows
    ]
