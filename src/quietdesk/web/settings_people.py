"""Admin settings screens for teams and the people of the service team (agents, admins).

Thin adapters like :mod:`quietdesk.web.settings_views`: the forms read the request,
:mod:`quietdesk.accounts.services` checks and saves, and a ``ValidationFailed`` comes back
as messages next to the fields it names (status 422).
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from quietdesk import access
from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import Team, User
from quietdesk.errors import NotFound, ValidationFailed
from quietdesk.schedule.services import default_calendar
from quietdesk.web import settings_forms as forms
from quietdesk.web.guards import admin_only
from quietdesk.web.guards import signed_in_user as _me

# --- Teams ---------------------------------------------------------------------------------


@require_GET
@admin_only
def teams(request: HttpRequest) -> HttpResponse:
    """Every team with how many active members it has and the business hours it keeps."""
    rows = list(
        access.visible_teams(_me(request))
        .select_related("calendar")
        .annotate(active_members=Count("members", filter=Q(members__is_active=True)))
        .order_by("name")
    )
    return render(
        request,
        "web/settings/teams.html",
        {"teams": rows, "default_calendar": default_calendar()},
    )


@require_http_methods(["GET", "POST"])
@admin_only
def team_edit(request: HttpRequest, team_id: str | None = None) -> HttpResponse:
    me = _me(request)
    team = _team(me, team_id) if team_id else None
    if request.method == "POST":
        form = forms.TeamForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if team is None:
                    saved = accounts.create_team(
                        actor=me,
                        name=data["name"],
                        slug=data["slug"],
                        description=data["description"],
                        members=list(data["members"]),
                        calendar=data["calendar"],
                    )
                else:
                    saved = accounts.update_team(
                        actor=me,
                        team=team,
                        name=data["name"],
                        slug=data["slug"],
                        description=data["description"],
                        members=list(data["members"]),
                        calendar=data["calendar"],
                    )
            except ValidationFailed as refused:
                forms.add_service_errors(form, refused)
            else:
                messages.success(request, _("Team “%(name)s” saved.") % {"name": saved.name})
                return redirect("settings-teams")
    else:
        form = forms.TeamForm(initial=forms.team_initial(team) if team else None)
    return render(
        request,
        "web/settings/team_form.html",
        {"form": form, "team": team},
        status=422 if request.method == "POST" else 200,
    )


def _team(me: User, team_id: str) -> Team:
    # By public id only: access.get_team also takes a slug, which is no URL of ours.
    found = access.visible_teams(me).select_related("calendar").filter(public_id=team_id).first()
    if found is None:
        raise Http404
    return found


# --- Agents and admins -------------------------------------------------------------------------


@require_GET
@admin_only
def agents(request: HttpRequest) -> HttpResponse:
    """The service team: active people first, each with role, teams, language and zone."""
    people = list(
        access.visible_staff(_me(request))
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("-is_active", "name", "email")
    )
    return render(request, "web/settings/agents.html", {"people": people})


@require_http_methods(["GET", "POST"])
@admin_only
def agent_edit(request: HttpRequest, person_id: str | None = None) -> HttpResponse:
    me = _me(request)
    person = _staff(me, person_id) if person_id else None
    form: forms.AgentForm
    if request.method == "POST":
        form = forms.AgentForm(request.POST) if person else forms.NewAgentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if person is None:
                    saved = accounts.create_staff(
                        actor=me,
                        email=data["email"],
                        name=data["name"],
                        role=data["role"],
                        teams=list(data["teams"]),
                        sees_all_teams=data["sees_all_teams"],
                        language=data["language"],
                        time_zone=data["time_zone"],
                    )
                else:
                    saved = accounts.update_staff(
                        actor=me,
                        person=person,
                        name=data["name"],
                        role=data["role"],
                        teams=list(data["teams"]),
                        sees_all_teams=data["sees_all_teams"],
                        is_active=data["is_active"],
                        language=data["language"],
                        time_zone=data["time_zone"],
                    )
            except ValidationFailed as refused:
                forms.add_service_errors(form, refused)
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": saved.display_name})
                return redirect("settings-agents")
    elif person is not None:
        form = forms.AgentForm(initial=forms.agent_initial(person))
    else:
        form = forms.NewAgentForm()
    return render(
        request,
        "web/settings/agent_form.html",
        {"form": form, "person": person, "is_me": person is not None and person.pk == me.pk},
        status=422 if request.method == "POST" else 200,
    )


def _staff(me: User, person_id: str) -> User:
    try:
        return access.get_staff_member(me, person_id)
    except NotFound:
        raise Http404 from None
