"""Contacts, customer organisations, teams and the signed-in person."""

from __future__ import annotations

from typing import Annotated

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus

from quietdesk import access
from quietdesk.accounts import services
from quietdesk.api.auth import actor
from quietdesk.api.pagination import Sort, paginate
from quietdesk.api.schemas import (
    ContactIn,
    ContactOut,
    ContactPage,
    MeOut,
    OrganisationIn,
    OrganisationOut,
    TeamIn,
    TeamOut,
)

router = Router()


class ContactQuery(Schema):
    q: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Start of a name or email address."
    )
    organisation: Annotated[str, Field(max_length=64)] | None = None
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, Field(max_length=200)] | None = None


@router.get("/contacts", response=ContactPage, tags=["contacts"], summary="List contacts")
def list_contacts(request: HttpRequest, query: Query[ContactQuery]) -> ContactPage:
    me = actor(request)
    contacts = (
        access.visible_contacts(me)
        .select_related("organisation")
        .prefetch_related("email_addresses", "phone_numbers")
    )
    if query.q:
        term = query.q.strip()
        contacts = contacts.filter(Q(name__istartswith=term) | Q(email__istartswith=term.lower()))
    if query.organisation:
        contacts = contacts.filter(organisation__public_id=query.organisation)
    items, next_cursor = paginate(
        contacts, sort=Sort("id", descending=True), limit=query.limit, cursor=query.cursor
    )
    return ContactPage(items=[ContactOut.of(c) for c in items], next_cursor=next_cursor)


@router.post("/contacts", response={201: ContactOut}, tags=["contacts"], summary="Add a contact")
def create_contact(request: HttpRequest, data: ContactIn) -> HttpStatus[ContactOut]:
    me = actor(request)
    access.require_staff(me)
    organisation = access.get_organisation(me, data.organisation) if data.organisation else None
    contact = services.create_contact(
        actor=me,
        email=data.email,
        name=data.name,
        organisation=organisation,
        extra_emails=data.emails,
        phones=data.phones,
        time_zone=data.time_zone,
        language=data.language,
    )
    return HttpStatus(201, ContactOut.of(access.get_contact(me, contact.public_id)))


@router.get(
    "/contacts/{contact_id}", response=ContactOut, tags=["contacts"], summary="Read a contact"
)
def read_contact(request: HttpRequest, contact_id: str) -> ContactOut:
    return ContactOut.of(access.get_contact(actor(request), contact_id))


@router.get(
    "/organisations",
    response=list[OrganisationOut],
    tags=["organisations"],
    summary="List customer organisations",
)
def list_organisations(
    request: HttpRequest,
    q: Annotated[str, Field(max_length=200)] | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
) -> list[OrganisationOut]:
    organisations = access.visible_organisations(actor(request))
    if q:
        organisations = organisations.filter(name__icontains=q.strip())
    return [OrganisationOut.of(o) for o in organisations[:limit]]  # type: ignore[misc]


@router.post(
    "/organisations",
    response={201: OrganisationOut},
    tags=["organisations"],
    summary="Add a customer organisation",
)
def create_organisation(
    request: HttpRequest, data: OrganisationIn
) -> HttpStatus[OrganisationOut | None]:
    organisation = services.create_organisation(
        actor=actor(request),
        name=data.name,
        shares_tickets=data.shares_tickets,
        notes=data.notes,
    )
    return HttpStatus(201, OrganisationOut.of(organisation))


@router.get(
    "/organisations/{organisation_id}",
    response=OrganisationOut,
    tags=["organisations"],
    summary="Read a customer organisation",
)
def read_organisation(request: HttpRequest, organisation_id: str) -> OrganisationOut | None:
    return OrganisationOut.of(access.get_organisation(actor(request), organisation_id))


@router.get("/teams", response=list[TeamOut], tags=["teams"], summary="List teams")
def list_teams(request: HttpRequest) -> list[TeamOut]:
    me = actor(request)
    access.require_staff(me)
    return [TeamOut.of(t) for t in access.visible_teams(me)]  # type: ignore[misc]


@router.post("/teams", response={201: TeamOut}, tags=["teams"], summary="Add a team (admins)")
def create_team(request: HttpRequest, data: TeamIn) -> HttpStatus[TeamOut | None]:
    team = services.create_team(
        actor=actor(request), name=data.name, slug=data.slug, description=data.description
    )
    return HttpStatus(201, TeamOut.of(team))


@router.get("/teams/{team_id}", response=TeamOut, tags=["teams"], summary="Read a team")
def read_team(request: HttpRequest, team_id: str) -> TeamOut | None:
    me = actor(request)
    access.require_staff(me)
    return TeamOut.of(access.get_team(me, team_id))


@router.get("/me", response=MeOut, tags=["me"], summary="Who you are signed in as")
def me(request: HttpRequest) -> MeOut:
    person = actor(request)
    return MeOut(
        id=person.public_id,
        name=person.name,
        email=person.email,
        role=person.role,
        time_zone=person.time_zone,
        language=person.language,
        organisation=OrganisationOut.of(person.organisation),
        teams=[TeamOut.of(t) for t in person.teams.all()],  # type: ignore[misc]
    )
