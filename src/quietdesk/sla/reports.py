"""Report data: SLA attainment, and response and resolution times.

Both reports cover only the tickets the reader may see (the one permission layer) and
return figures, not charts: the web app draws them.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.errors import ValidationFailed
from quietdesk.schedule.hours import BusinessHours
from quietdesk.schedule.services import business_hours, calendar_for_team
from quietdesk.sla.models import Clock, ClockKind, ClockState, Policy


class Attainment(BaseModel):
    kind: str
    met: int
    missed: int
    rate: float | None = Field(description="Share of clocks met, 0 to 1; null when none ended.")


class AttainmentGroup(BaseModel):
    id: str | None
    name: str
    clocks: list[Attainment]


class AttainmentReport(BaseModel):
    start: dt.datetime
    end: dt.datetime
    group_by: str
    groups: list[AttainmentGroup]


class Durations(BaseModel):
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    mean_seconds: float | None

    @classmethod
    def of(cls, values: list[float]) -> Durations:
        if not values:
            return cls(count=0, median_seconds=None, p90_seconds=None, mean_seconds=None)
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        return cls(
            count=len(values),
            median_seconds=round(statistics.median(ordered), 1),
            p90_seconds=round(p90, 1),
            mean_seconds=round(statistics.fmean(ordered), 1),
        )


class TimesGroup(BaseModel):
    id: str | None
    name: str
    first_response_calendar: Durations
    first_response_business: Durations
    resolution_calendar: Durations
    resolution_business: Durations


class ResponseTimesReport(BaseModel):
    start: dt.datetime
    end: dt.datetime
    group_by: str
    groups: list[TimesGroup]


def period(first: dt.date, last: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants a report covers: ``first`` to ``last`` included, as days in ``zone``."""
    if last < first:
        raise ValidationFailed({"end": _("The period ends before it starts.")})
    if (last - first).days > 3660:
        raise ValidationFailed({"end": _("A report covers at most ten years.")})
    if not (first.year >= 1900 and last.year <= 9998):
        raise ValidationFailed({"end": _("Choose dates between the years 1900 and 9998.")})
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def attainment(
    reader: User, *, start: dt.datetime, end: dt.datetime, group_by: str
) -> AttainmentReport:
    """Clocks that ended (met or missed) in the period, per team or policy and kind."""
    key = "ticket__team" if group_by == "team" else "policy"
    rows = Clock.objects.filter(
        ticket__in=access.visible_tickets(reader),
        state__in=(ClockState.MET, ClockState.MISSED),
        stopped_at__gte=start,
        stopped_at__lt=end,
    ).values_list(key, "kind", "state")
    counts: dict[int | None, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"met": 0, "missed": 0})
    )
    for group, kind, state in rows:
        counts[group][kind][state] += 1
    names = _names(group_by, counts.keys())
    groups = [
        AttainmentGroup(
            id=names[group][0],
            name=names[group][1],
            clocks=[
                Attainment(
                    kind=kind,
                    met=c["met"],
                    missed=c["missed"],
                    rate=round(c["met"] / (c["met"] + c["missed"]), 4),
                )
                for kind in ClockKind.values
                if (c := per_kind.get(kind))
            ],
        )
        for group, per_kind in counts.items()
    ]
    groups.sort(key=lambda g: g.name)
    return AttainmentReport(start=start, end=end, group_by=group_by, groups=groups)


def response_times(
    reader: User, *, start: dt.datetime, end: dt.datetime, group_by: str
) -> ResponseTimesReport:
    """Tickets opened in the period: time to first response and to resolution."""
    key = "team" if group_by == "team" else "sla_policy"
    tickets = (
        access.visible_tickets(reader)
        .filter(created_at__gte=start, created_at__lt=end)
        .values_list(key, "team", "created_at", "first_response_at", "solved_at", "closed_at")
    )
    teams = {team.pk: team for team in Team.objects.select_related("calendar")}
    hours_by_team: dict[int | None, BusinessHours] = {}
    buckets: dict[int | None, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for group, team_id, created, first, solved, closed in tickets.iterator(chunk_size=2000):
        hours = hours_by_team.get(team_id)
        if hours is None:
            calendar = calendar_for_team(teams.get(team_id) if team_id else None)
            hours = hours_by_team[team_id] = business_hours(calendar)
        bucket = buckets[group]
        if first is not None:
            bucket["first_calendar"].append((first - created).total_seconds())
            bucket["first_business"].append(hours.between(created, first).total_seconds())
        resolved = solved or closed
        if resolved is not None:
            bucket["resolution_calendar"].append((resolved - created).total_seconds())
            bucket["resolution_business"].append(hours.between(created, resolved).total_seconds())
    names = _names(group_by, buckets.keys())
    groups = [
        TimesGroup(
            id=names[group][0],
            name=names[group][1],
            first_response_calendar=Durations.of(b["first_calendar"]),
            first_response_business=Durations.of(b["first_business"]),
            resolution_calendar=Durations.of(b["resolution_calendar"]),
            resolution_business=Durations.of(b["resolution_business"]),
        )
        for group, b in buckets.items()
    ]
    groups.sort(key=lambda g: g.name)
    return ResponseTimesReport(start=start, end=end, group_by=group_by, groups=groups)


def _names(group_by: str, keys: Iterable[int | None]) -> dict[int | None, tuple[str | None, str]]:
    ids = [k for k in keys if k is not None]
    model = Team if group_by == "team" else Policy
    found = {row.pk: (row.public_id, row.name) for row in model.objects.filter(pk__in=ids)}
    none = _("No team") if group_by == "team" else _("No policy")
    return {k: found.get(k, (None, none)) if k is not None else (None, none) for k in keys}
