"""Admin settings screens: business hours (calendars, each team's calendar) and SLA policies.

Thin adapters: the forms read the request, the services check and save, and a
``ValidationFailed`` comes back as messages next to the fields it names.
"""

from __future__ import annotations

from collections.abc import Callable

from babel.units import format_unit
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.errors import NotFound, ValidationFailed
from quietdesk.replies import services as replies
from quietdesk.replies.models import CannedReply
from quietdesk.schedule import services as schedule
from quietdesk.schedule.models import Calendar
from quietdesk.sla import services as sla
from quietdesk.sla.models import ClockKind, Policy
from quietdesk.tickets.models import Channel, Priority
from quietdesk.web import settings_forms as forms
from quietdesk.web.guards import admin_only, signed_in_user

type View = Callable[..., HttpResponse]


_me = signed_in_user


# --- Business hours --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@admin_only
def calendars(request: HttpRequest) -> HttpResponse:
    """Every calendar, and which one each team uses (changed here in one form)."""
    me = _me(request)
    teams = list(Team.objects.select_related("calendar"))
    all_calendars = list(access.visible_calendars(me).prefetch_related("openings", "teams"))
    if request.method == "POST":
        by_id = {c.public_id: c for c in all_calendars}
        for team in teams:
            chosen = by_id.get(str(request.POST.get(f"team-{team.public_id}", "")))
            if chosen != team.calendar:
                schedule.set_team_calendar(actor=me, team=team, calendar=chosen)
        messages.success(request, _("Team calendars saved."))
        return redirect("settings-calendars")
    names = forms.weekday_names()
    summaries = []
    for calendar in all_calendars:
        by_day: dict[int, list[str]] = {}
        for o in calendar.openings.all():
            end = o.end.isoformat("minutes") + ("+1" if o.overnight else "")
            by_day.setdefault(o.weekday, []).append(f"{o.start:%H:%M}–{end}")
        summaries.append(
            (
                calendar,
                [(names[day], ", ".join(spans)) for day, spans in sorted(by_day.items())],
                [team.name for team in calendar.teams.all()],
            )
        )
    return render(
        request,
        "web/settings/calendars.html",
        {"calendars": summaries, "teams": teams, "choices": all_calendars},
    )


@require_http_methods(["GET", "POST"])
@admin_only
def calendar_edit(request: HttpRequest, calendar_id: str | None = None) -> HttpResponse:
    me = _me(request)
    calendar = _calendar(me, calendar_id) if calendar_id else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = forms.CalendarForm(request.POST)
        grid = forms.grid_from_post(request.POST)
        if form.is_valid():
            openings, origin = forms.openings_from_grid(grid)
            special, special_error = forms.parse_special_days(form.cleaned_data["special_days"])
            if special_error:
                form.add_error("special_days", special_error)
            if not any(row.error for row in grid) and not special_error:
                data = schedule.CalendarIn(
                    name=form.cleaned_data["name"],
                    time_zone=form.cleaned_data["time_zone"],
                    holiday_country=form.cleaned_data["holiday_country"],
                    holiday_subdivision=form.cleaned_data["holiday_subdivision"],
                    is_default=form.cleaned_data["is_default"],
                    openings=openings,
                    special_days=special,
                )
                try:
                    saved = schedule.save_calendar(actor=me, data=data, calendar=calendar)
                except ValidationFailed as refused:
                    errors = _place_calendar_errors(
                        {k: str(v) for k, v in refused.fields.items()}, form, origin
                    )
                else:
                    messages.success(
                        request,
                        _("Calendar “%(name)s” saved; due times of open tickets follow.")
                        % {"name": saved.name},
                    )
                    return redirect("settings-calendars")
    else:
        form = forms.CalendarForm(
            initial={
                "name": calendar.name if calendar else "",
                "time_zone": calendar.time_zone if calendar else "Europe/Paris",
                "holiday_country": calendar.holiday_country if calendar else "",
                "holiday_subdivision": calendar.holiday_subdivision if calendar else "",
                "is_default": calendar.is_default if calendar else False,
                "special_days": forms.special_days_text(calendar),
            }
        )
        grid = forms.grid_from_calendar(calendar)
    names = forms.weekday_names()
    days = list(zip(names, forms.rows_by_day(grid), strict=True))
    return render(
        request,
        "web/settings/calendar_form.html",
        {
            "form": form,
            "calendar": calendar,
            "days": days,
            "openings_error": errors.get("openings"),
        },
        status=422 if request.method == "POST" else 200,
    )


def _place_calendar_errors(
    fields: dict[str, str], form: forms.CalendarForm, origin: list[forms.GridRow]
) -> dict[str, str]:
    """Put each service error next to the form field or grid row it names."""
    left: dict[str, str] = {}
    for name, message in fields.items():
        if name.startswith("openings[") and "]" in name:
            index = int(name[len("openings[") : name.index("]")])
            if index < len(origin):
                origin[index].error = message
                continue
        if name.startswith("special_days"):
            form.add_error("special_days", message)
        elif name in form.fields:
            form.add_error(name, message)
        else:
            left[name] = message
    return left


@require_POST
@admin_only
def calendar_delete(request: HttpRequest, calendar_id: str) -> HttpResponse:
    me = _me(request)
    calendar = _calendar(me, calendar_id)
    try:
        schedule.delete_calendar(actor=me, calendar=calendar)
    except ValidationFailed as refused:
        for message in refused.fields.values():
            messages.error(request, str(message))
    else:
        messages.success(request, _("Calendar “%(name)s” deleted.") % {"name": calendar.shown_name})
    return redirect("settings-calendars")


def _calendar(me: User, calendar_id: str) -> Calendar:
    try:
        return access.get_calendar(me, calendar_id)
    except NotFound:
        raise Http404 from None


# --- SLA policies ----------------------------------------------------------------------------


@require_http_methods(["GET"])
@admin_only
def policies(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    rows = list(
        access.visible_policies(me)
        .select_related("calendar")
        .prefetch_related("teams", "organisations")
    )
    language = get_language() or "en"
    summaries = []
    for policy in rows:
        conditions = [
            *(team.name for team in policy.teams.all()),
            *(org.name for org in policy.organisations.all()),
            *(str(Priority(p).label) for p in policy.priorities if p in Priority.values),
            *(str(Channel(c).label) for c in policy.channels if c in Channel.values),
            *(f"#{tag}" for tag in policy.tags),
        ]
        targets = []
        for kind, label in ClockKind.choices:
            seconds, business = policy.target(kind)
            if seconds:
                kind_of_time = _("business hours") if business else _("calendar time")
                targets.append((label, f"{duration(seconds, language)} ({kind_of_time})"))
        summaries.append((policy, conditions, targets))
    return render(request, "web/settings/policies.html", {"policies": summaries})


@require_http_methods(["GET", "POST"])
@admin_only
def policy_edit(request: HttpRequest, policy_id: str | None = None) -> HttpResponse:
    me = _me(request)
    policy = _policy(me, policy_id) if policy_id else None
    if request.method == "POST":
        form = forms.PolicyForm(request.POST)
        if form.is_valid():
            data = sla.PolicyIn(
                name=form.cleaned_data["name"],
                position=form.cleaned_data["position"],
                is_active=form.cleaned_data["is_active"],
                teams=list(form.cleaned_data["teams"]),
                organisations=list(form.cleaned_data["organisations"]),
                priorities=form.cleaned_data["priorities"],
                channels=form.cleaned_data["channels"],
                tags=[t for t in form.cleaned_data["tags"].split(",") if t.strip()],
                targets=form.targets(),
                pause_when_pending=form.cleaned_data["pause_when_pending"],
                pause_when_on_hold=form.cleaned_data["pause_when_on_hold"],
                warn_at_percent=form.cleaned_data["warn_at_percent"],
                calendar=form.cleaned_data["calendar"],
            )
            try:
                saved = sla.save_policy(actor=me, data=data, policy=policy)
            except ValidationFailed as refused:
                for name, message in refused.fields.items():
                    field = name.replace("_minutes", "_value")
                    form.add_error(field if field in form.fields else None, str(message))
            else:
                messages.success(request, _("Policy “%(name)s” saved.") % {"name": saved.name})
                return redirect("settings-policies")
    else:
        form = forms.PolicyForm(initial=forms.policy_initial(policy) if policy else None)
    return render(
        request,
        "web/settings/policy_form.html",
        {"form": form, "policy": policy},
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@admin_only
def policy_delete(request: HttpRequest, policy_id: str) -> HttpResponse:
    me = _me(request)
    policy = _policy(me, policy_id)
    sla.delete_policy(actor=me, policy=policy)
    messages.success(request, _("Policy “%(name)s” deleted.") % {"name": policy.name})
    return redirect("settings-policies")


def duration(seconds: int, language: str) -> str:
    """4 hours, 90 minutes, 3 days — in the reader's language."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            return str(
                format_unit(seconds // size, f"duration-{unit}", length="long", locale=language)
            )
    return str(format_unit(seconds // 60, "duration-minute", length="long", locale=language))


def _policy(me: User, policy_id: str) -> Policy:
    try:
        return access.get_policy(me, policy_id)
    except NotFound:
        raise Http404 from None


# --- Canned replies ----------------------------------------------------------------------------


@require_GET
@admin_only
def canned_replies(request: HttpRequest) -> HttpResponse:
    replies_list = list(replies.visible_replies(_me(request)))
    return render(request, "web/settings/replies.html", {"replies": replies_list})


@require_http_methods(["GET", "POST"])
@admin_only
def canned_reply_edit(request: HttpRequest, reply_id: str | None = None) -> HttpResponse:
    me = _me(request)
    reply = _canned(me, reply_id) if reply_id else None
    if request.method == "POST":
        form = forms.CannedReplyForm(request.POST)
        if form.is_valid():
            data = replies.CannedReplyIn(
                name=form.cleaned_data["name"],
                team=form.cleaned_data["team"],
                texts={"en": form.cleaned_data["text_en"], "fr": form.cleaned_data["text_fr"]},
            )
            try:
                saved = replies.save_reply(actor=me, data=data, reply=reply)
            except ValidationFailed as refused:
                for key, message in refused.fields.items():
                    form.add_error(key if key in form.fields else None, str(message))
            else:
                messages.success(
                    request, _("Canned reply “%(name)s” saved.") % {"name": saved.name}
                )
                return redirect("settings-replies")
    else:
        form = forms.CannedReplyForm(
            initial={
                "name": reply.name,
                "team": reply.team.public_id if reply.team else None,
                "text_en": reply.texts.get("en", ""),
                "text_fr": reply.texts.get("fr", ""),
            }
            if reply
            else {}
        )
    return render(
        request,
        "web/settings/reply_form.html",
        {
            "form": form,
            "reply": reply,
            "placeholders": [("{{ " + k + " }}", v) for k, v in replies.PLACEHOLDERS.items()],
        },
    )


@require_POST
@admin_only
def canned_reply_delete(request: HttpRequest, reply_id: str) -> HttpResponse:
    me = _me(request)
    reply = _canned(me, reply_id)
    replies.delete_reply(actor=me, reply=reply)
    messages.success(request, _("Canned reply “%(name)s” removed.") % {"name": reply.name})
    return redirect("settings-replies")


def _canned(me: User, reply_id: str) -> CannedReply:
    found = replies.visible_replies(me).filter(public_id=reply_id).first()
    if found is None:
        raise Http404
    return found
