"""Business calendars, SLA policies, SLA reports and staff notifications."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus

from quietdesk import access
from quietdesk.api.auth import actor
from quietdesk.api.pagination import Sort, paginate
from quietdesk.errors import NotFound
from quietdesk.notifications.models import Notification
from quietdesk.schedule import services as schedule
from quietdesk.schedule.hours import Opening
from quietdesk.schedule.models import WEEKDAYS, Calendar
from quietdesk.sla import reports
from quietdesk.sla import services as sla
from quietdesk.sla.models import ClockKind, Policy

router = Router()

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])]


# --- Calendars ---------------------------------------------------------------------------


class OpeningSchema(Schema):
    weekday: Weekday
    start: ClockTime
    end: ClockTime
    overnight: bool = Field(default=False, description="Closes the next day (22:00–02:00).")


class HoursSchema(Schema):
    start: ClockTime
    end: ClockTime
    overnight: bool = False


class SpecialDaySchema(Schema):
    date: dt.date
    name: Annotated[str, Field(max_length=100)] = ""
    hours: list[HoursSchema] = Field(
        default_factory=list, max_length=6, description="Empty: closed all day."
    )


class CalendarIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    time_zone: Annotated[str, Field(max_length=64, examples=["Europe/Paris"])]
    openings: list[OpeningSchema] = Field(max_length=70)
    holiday_country: Annotated[str, Field(max_length=3)] = ""
    holiday_subdivision: Annotated[str, Field(max_length=10)] = ""
    special_days: list[SpecialDaySchema] = Field(default_factory=list, max_length=1000)
    is_default: bool = False


class CalendarOut(CalendarIn):
    id: str
    updated_at: dt.datetime

    @classmethod
    def of(cls, calendar: Calendar) -> CalendarOut:
        return cls(
            id=calendar.public_id,
            name=calendar.name,
            time_zone=calendar.time_zone,
            holiday_country=calendar.holiday_country,
            holiday_subdivision=calendar.holiday_subdivision,
            is_default=calendar.is_default,
            updated_at=calendar.updated_at,
            openings=[
                OpeningSchema(
                    weekday=WEEKDAYS[o.weekday],  # type: ignore[arg-type]
                    start=o.start.isoformat("minutes"),
                    end=o.end.isoformat("minutes"),
                    overnight=o.overnight,
                )
                for o in calendar.openings.all()
            ],
            special_days=[
                SpecialDaySchema(
                    date=d.date,
                    name=d.name,
                    hours=[HoursSchema(start=s, end=e, overnight=bool(o)) for s, e, o in d.hours],
                )
                for d in calendar.special_days.all()
            ],
        )


def _calendar_data(data: CalendarIn) -> schedule.CalendarIn:
    return schedule.CalendarIn(
        name=data.name,
        time_zone=data.time_zone,
        holiday_country=data.holiday_country,
        holiday_subdivision=data.holiday_subdivision,
        is_default=data.is_default,
        openings=[
            Opening(
                WEEKDAYS.index(o.weekday),
                dt.time.fromisoformat(o.start),
                dt.time.fromisoformat(o.end),
                o.overnight,
            )
            for o in data.openings
        ],
        special_days=[
            schedule.SpecialDayIn(
                date=d.date,
                name=d.name,
                hours=[
                    (dt.time.fromisoformat(h.start), dt.time.fromisoformat(h.end), h.overnight)
                    for h in d.hours
                ],
            )
            for d in data.special_days
        ],
    )


def _calendars(request: HttpRequest) -> list[Calendar]:
    return list(
        access.visible_calendars(actor(request)).prefetch_related("openings", "special_days")
    )


@router.get(
    "/calendars", response=list[CalendarOut], tags=["business hours"], summary="List calendars"
)
def list_calendars(request: HttpRequest) -> list[CalendarOut]:
    return [CalendarOut.of(c) for c in _calendars(request)]


@router.post(
    "/calendars", response={201: CalendarOut}, tags=["business hours"], summary="Add a calendar"
)
def create_calendar(request: HttpRequest, data: CalendarIn) -> HttpStatus[CalendarOut]:
    calendar = schedule.save_calendar(actor=actor(request), data=_calendar_data(data))
    return HttpStatus(201, CalendarOut.of(calendar))


@router.get(
    "/calendars/{calendar_id}",
    response=CalendarOut,
    tags=["business hours"],
    summary="Read a calendar",
)
def read_calendar(request: HttpRequest, calendar_id: str) -> CalendarOut:
    return CalendarOut.of(access.get_calendar(actor(request), calendar_id))


@router.put(
    "/calendars/{calendar_id}",
    response=CalendarOut,
    tags=["business hours"],
    summary="Replace a calendar's hours; open tickets' due times follow",
)
def update_calendar(request: HttpRequest, calendar_id: str, data: CalendarIn) -> CalendarOut:
    me = actor(request)
    calendar = access.get_calendar(me, calendar_id)
    return CalendarOut.of(
        schedule.save_calendar(actor=me, data=_calendar_data(data), calendar=calendar)
    )


@router.delete(
    "/calendars/{calendar_id}",
    response={204: None},
    tags=["business hours"],
    summary="Delete a calendar (teams using it fall back to the default)",
)
def delete_calendar(request: HttpRequest, calendar_id: str) -> HttpStatus[None]:
    me = actor(request)
    schedule.delete_calendar(actor=me, calendar=access.get_calendar(me, calendar_id))
    return HttpStatus(204, None)


class TeamCalendarIn(Schema):
    calendar: Annotated[str, Field(max_length=64)] | None = Field(
        description="Calendar id; null for the installation default."
    )


class TeamCalendarOut(Schema):
    team: str
    calendar: str | None


@router.put(
    "/teams/{team_id}/calendar",
    response=TeamCalendarOut,
    tags=["business hours"],
    summary="Choose a team's business hours",
)
def set_team_calendar(request: HttpRequest, team_id: str, data: TeamCalendarIn) -> TeamCalendarOut:
    me = actor(request)
    access.require_admin(me)
    team = access.get_team(me, team_id)
    calendar = access.get_calendar(me, data.calendar) if data.calendar else None
    schedule.set_team_calendar(actor=me, team=team, calendar=calendar)
    return TeamCalendarOut(team=team.public_id, calendar=calendar.public_id if calendar else None)


# --- Policies ------------------------------------------------------------------------------


Minutes = Annotated[int, Field(ge=1, le=366 * 24 * 60)]


class PolicyIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    position: int = Field(default=100, ge=0, le=1_000_000, description="Lower is tried first.")
    is_active: bool = True
    teams: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=200)
    organisations: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=1000
    )
    priorities: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list, max_length=10
    )
    channels: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list, max_length=20
    )
    tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=50)
    first_response_minutes: Minutes | None = None
    first_response_business: bool = True
    next_response_minutes: Minutes | None = None
    next_response_business: bool = True
    resolution_minutes: Minutes | None = None
    resolution_business: bool = True
    pause_when_pending: bool = True
    pause_when_on_hold: bool = True
    warn_at_percent: int = Field(default=80, ge=1, le=99)
    calendar: Annotated[str, Field(max_length=64)] | None = None


class PolicyOut(PolicyIn):
    id: str

    @classmethod
    def of(cls, policy: Policy) -> PolicyOut:
        def minutes(kind: str) -> int | None:
            seconds = getattr(policy, f"{kind}_seconds")
            return seconds // 60 if seconds else None

        return cls(
            id=policy.public_id,
            name=policy.name,
            position=policy.position,
            is_active=policy.is_active,
            teams=[t.slug for t in policy.teams.all()],
            organisations=[o.public_id for o in policy.organisations.all()],
            priorities=policy.priorities,
            channels=policy.channels,
            tags=policy.tags,
            first_response_minutes=minutes("first_response"),
            first_response_business=policy.first_response_business,
            next_response_minutes=minutes("next_response"),
            next_response_business=policy.next_response_business,
            resolution_minutes=minutes("resolution"),
            resolution_business=policy.resolution_business,
            pause_when_pending=policy.pause_when_pending,
            pause_when_on_hold=policy.pause_when_on_hold,
            warn_at_percent=policy.warn_at_percent,
            calendar=policy.calendar.public_id if policy.calendar else None,
        )


def _policy_data(request: HttpRequest, data: PolicyIn) -> sla.PolicyIn:
    me = actor(request)
    access.require_admin(me)
    return sla.PolicyIn(
        name=data.name,
        position=data.position,
        is_active=data.is_active,
        teams=[access.get_team(me, t) for t in data.teams],
        organisations=[access.get_organisation(me, o) for o in data.organisations],
        priorities=data.priorities,
        channels=data.channels,
        tags=data.tags,
        targets={
            kind: (
                (getattr(data, f"{kind}_minutes") or 0) * 60 or None,
                getattr(data, f"{kind}_business"),
            )
            for kind in ClockKind.values
        },
        pause_when_pending=data.pause_when_pending,
        pause_when_on_hold=data.pause_when_on_hold,
        warn_at_percent=data.warn_at_percent,
        calendar=access.get_calendar(me, data.calendar) if data.calendar else None,
    )


def _policies(request: HttpRequest) -> list[Policy]:
    return list(
        access.visible_policies(actor(request))
        .prefetch_related("teams", "organisations")
        .select_related("calendar")
    )


@router.get(
    "/sla/policies", response=list[PolicyOut], tags=["service levels"], summary="List SLA policies"
)
def list_policies(request: HttpRequest) -> list[PolicyOut]:
    return [PolicyOut.of(p) for p in _policies(request)]


@router.post(
    "/sla/policies", response={201: PolicyOut}, tags=["service levels"], summary="Add an SLA policy"
)
def create_policy(request: HttpRequest, data: PolicyIn) -> HttpStatus[PolicyOut]:
    policy = sla.save_policy(actor=actor(request), data=_policy_data(request, data))
    return HttpStatus(201, PolicyOut.of(policy))


@router.get(
    "/sla/policies/{policy_id}",
    response=PolicyOut,
    tags=["service levels"],
    summary="Read an SLA policy",
)
def read_policy(request: HttpRequest, policy_id: str) -> PolicyOut:
    return PolicyOut.of(access.get_policy(actor(request), policy_id))


@router.put(
    "/sla/policies/{policy_id}",
    response=PolicyOut,
    tags=["service levels"],
    summary="Replace an SLA policy; running clocks take its new targets",
)
def update_policy(request: HttpRequest, policy_id: str, data: PolicyIn) -> PolicyOut:
    me = actor(request)
    policy = access.get_policy(me, policy_id)
    return PolicyOut.of(sla.save_policy(actor=me, data=_policy_data(request, data), policy=policy))


@router.delete(
    "/sla/policies/{policy_id}",
    response={204: None},
    tags=["service levels"],
    summary="Delete an SLA policy",
)
def delete_policy(request: HttpRequest, policy_id: str) -> HttpStatus[None]:
    me = actor(request)
    sla.delete_policy(actor=me, policy=access.get_policy(me, policy_id))
    return HttpStatus(204, None)


# --- Reports -------------------------------------------------------------------------------


class ReportQuery(Schema):
    start: dt.date = Field(description="First day, in the reader's time zone.")
    end: dt.date = Field(description="Last day (included).")
    group_by: Literal["team", "policy"] = "team"


def _period(request: HttpRequest, query: ReportQuery) -> tuple[dt.datetime, dt.datetime]:
    return reports.period(query.start, query.end, timezone.get_current_timezone())


@router.get(
    "/reports/sla",
    response=reports.AttainmentReport,
    tags=["reports"],
    summary="SLA attainment per team or policy over a period",
)
def sla_report(request: HttpRequest, query: Query[ReportQuery]) -> reports.AttainmentReport:
    me = actor(request)
    access.require_staff(me)
    start, end = _period(request, query)
    return reports.attainment(me, start=start, end=end, group_by=query.group_by)


@router.get(
    "/reports/response-times",
    response=reports.ResponseTimesReport,
    tags=["reports"],
    summary="First-response and resolution times, in business and calendar time",
)
def response_times_report(
    request: HttpRequest, query: Query[ReportQuery]
) -> reports.ResponseTimesReport:
    me = actor(request)
    access.require_staff(me)
    start, end = _period(request, query)
    return reports.response_times(me, start=start, end=end, group_by=query.group_by)


# --- Notifications -------------------------------------------------------------------------


class NotificationOut(Schema):
    id: str
    verb: str
    urgent: bool
    ticket: str | None
    payload: dict[str, object]
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class NotificationQuery(Schema):
    unread: bool = False
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, Field(max_length=200)] | None = None


def _notification_out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.public_id,
        verb=n.verb,
        urgent=n.urgent,
        ticket=n.ticket.public_id if n.ticket else None,
        payload=n.payload,
        created_at=n.created_at,
        read_at=n.read_at,
    )


@router.get(
    "/notifications",
    response=NotificationPage,
    tags=["notifications"],
    summary="Your notifications",
)
def list_notifications(request: HttpRequest, query: Query[NotificationQuery]) -> NotificationPage:
    mine = access.own_notifications(actor(request)).select_related("ticket")
    if query.unread:
        mine = mine.filter(read_at__isnull=True)
    items, next_cursor = paginate(
        mine, sort=Sort("id", descending=True), limit=query.limit, cursor=query.cursor
    )
    return NotificationPage(items=[_notification_out(n) for n in items], next_cursor=next_cursor)


@router.post(
    "/notifications/{notification_id}/read",
    response=NotificationOut,
    tags=["notifications"],
    summary="Mark a notification read",
)
def read_notification(request: HttpRequest, notification_id: str) -> NotificationOut:
    found = (
        access.own_notifications(actor(request))
        .select_related("ticket")
        .filter(public_id=notification_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No notification %(id)s.") % {"id": notification_id})
    if found.read_at is None:
        found.read_at = timezone.now()
        found.save(update_fields=["read_at"])
    return _notification_out(found)
