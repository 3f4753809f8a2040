"""Tickets and their messages."""

from __future__ import annotations

from typing import Annotated, Literal

from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import BaseModel

from quietdesk import access
from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import User
from quietdesk.api.auth import actor
from quietdesk.api.bodies import parse_body
from quietdesk.api.pagination import Sort, paginate, parse_aware_datetime
from quietdesk.api.schemas import (
    AuditEventOut,
    ChannelName,
    MessageIn,
    MessageOut,
    MessagePage,
    PersonRef,
    PriorityName,
    Status,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatch,
)
from quietdesk.errors import ValidationFailed
from quietdesk.tickets import services
from quietdesk.tickets.files import open_blob
from quietdesk.tickets.models import Attachment, Ticket
from quietdesk.tickets.queries import TicketFilters, filter_tickets, thread, with_ticket_relations

router = Router(tags=["tickets"])

SORTS = {
    "-created": Sort("id", descending=True),
    "created": Sort("id", descending=False),
    "-updated": Sort("updated_at", descending=True),
    "updated": Sort("updated_at", descending=False),
}


class TicketQuery(Schema):
    status: list[Status] = Field(default_factory=list, description="Repeat for several.")
    priority: list[PriorityName] = Field(default_factory=list)
    channel: list[ChannelName] = Field(default_factory=list)
    team: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="Team id or slug, or `none`."
    )
    assignee: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="Agent id, `me` or `none`."
    )
    requester: Annotated[str, Field(max_length=64)] | None = None
    organisation: Annotated[str, Field(max_length=64)] | None = None
    tag: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list)
    sort: Literal["-created", "created", "-updated", "updated"] = "-created"
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, Field(max_length=200)] | None = None


def _body_doc(schema: type[BaseModel]) -> dict[str, object]:
    """OpenAPI request body for operations taking JSON or multipart with files."""
    fields = schema.model_json_schema()
    multipart = {
        **fields,
        "properties": {
            **fields["properties"],
            "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": fields},
                "multipart/form-data": {"schema": multipart},
            },
        }
    }


def _load(ticket: Ticket) -> Ticket:
    return with_ticket_relations(Ticket.objects.filter(pk=ticket.pk)).get()


@router.get("/tickets", response=TicketPage, summary="List tickets you can see")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> TicketPage:
    filters = TicketFilters(
        status=query.status,
        priority=query.priority,
        channel=query.channel,
        team=query.team,
        assignee=query.assignee,
        requester=query.requester,
        organisation=query.organisation,
        tags=query.tag,
    )
    tickets = with_ticket_relations(filter_tickets(actor(request), filters))
    sort = SORTS[query.sort]
    items, next_cursor = paginate(
        tickets,
        sort=sort,
        limit=query.limit,
        cursor=query.cursor,
        parse_value=parse_aware_datetime,
    )
    staff = actor(request).is_agent_or_admin
    return TicketPage(items=[TicketOut.of(t, staff=staff) for t in items], next_cursor=next_cursor)


@router.post(
    "/tickets",
    response={201: TicketOut},
    summary="Open a ticket",
    openapi_extra=_body_doc(TicketIn),
)
def create_ticket(request: HttpRequest) -> HttpStatus[TicketOut]:
    me = actor(request)
    data, uploads = parse_body(request, TicketIn)
    # Look-ups first: on SQLite the transaction below holds the database's write lock.
    requester = access.get_contact(me, data.requester) if data.requester else None
    team = access.get_team(me, data.team) if data.team else None
    assignee = _staff(me, data.assignee) if data.assignee else None
    copied = [access.get_contact(me, pid) for pid in data.copied]
    with transaction.atomic():  # a contact created for the address goes with the ticket
        if requester is None and data.requester_email:
            requester = accounts.contact_for_email(actor=me, email=data.requester_email)
        ticket = services.create_ticket(
            actor=me,
            subject=data.subject,
            body=data.body,
            body_html=data.body_html,
            channel=data.channel,
            requester=requester,
            priority=data.priority,
            team=team,
            assignee=assignee,
            tags=data.tags,
            copied=copied,
            attachments=uploads,
        )
    # The service returns the ticket with its relations in memory: no reload.
    return HttpStatus(201, TicketOut.of(ticket, staff=me.is_agent_or_admin))


@router.get("/tickets/{ticket_id}", response=TicketOut, summary="Read a ticket")
def read_ticket(request: HttpRequest, ticket_id: str) -> TicketOut:
    me = actor(request)
    ticket = access.get_ticket(me, ticket_id)
    return TicketOut.of(_load(ticket), staff=me.is_agent_or_admin)


@router.patch(
    "/tickets/{ticket_id}",
    response=TicketOut,
    summary="Change status, priority, team, assignee or tags",
)
def update_ticket(request: HttpRequest, ticket_id: str, patch: TicketPatch) -> TicketOut:
    me = actor(request)
    ticket = access.get_ticket(me, ticket_id)
    sent = patch.model_fields_set
    for name in ("priority", "tags", "status"):
        if name in sent and getattr(patch, name) is None:
            raise ValidationFailed({name: _("This field cannot be null.")})
    with transaction.atomic():
        if "team" in sent or "assignee" in sent:
            kwargs: dict[str, object] = {}
            if "team" in sent:
                access.require_can_manage(me, ticket)
                kwargs["team"] = access.get_team(me, patch.team) if patch.team else None
            if "assignee" in sent:
                access.require_can_manage(me, ticket)
                kwargs["assignee"] = _staff(me, patch.assignee) if patch.assignee else None
            ticket = services.assign(ticket=ticket, actor=me, **kwargs)  # type: ignore[arg-type]
        if "priority" in sent and patch.priority is not None:
            ticket = services.set_priority(ticket=ticket, actor=me, priority=patch.priority)
        if "tags" in sent and patch.tags is not None:
            ticket = services.set_tags(ticket=ticket, actor=me, tags=patch.tags)
        if "status" in sent and patch.status is not None:
            ticket = services.change_status(ticket=ticket, actor=me, status=patch.status)
    return TicketOut.of(_load(ticket), staff=me.is_agent_or_admin)


@router.get(
    "/tickets/{ticket_id}/messages", response=MessagePage, summary="A ticket's thread, oldest first"
)
def list_messages(
    request: HttpRequest,
    ticket_id: str,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
    cursor: Annotated[str, Field(max_length=200)] | None = None,
) -> MessagePage:
    me = actor(request)
    ticket = access.get_ticket(me, ticket_id)
    items, next_cursor = paginate(
        thread(me, ticket), sort=Sort("id", descending=False), limit=limit, cursor=cursor
    )
    staff = me.is_agent_or_admin
    return MessagePage(
        items=[MessageOut.of(m, staff=staff) for m in items], next_cursor=next_cursor
    )


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut},
    summary="Reply, add an internal note or log a call",
    description="A reply to a closed ticket opens a linked follow-up ticket; "
    "the message's `ticket` says where it landed.",
    openapi_extra=_body_doc(MessageIn),
)
def create_message(request: HttpRequest, ticket_id: str) -> HttpStatus[MessageOut]:
    me = actor(request)
    ticket = access.get_ticket(me, ticket_id)
    data, uploads = parse_body(request, MessageIn)
    message = services.post_message(
        ticket=ticket,
        author=me,
        body=data.body,
        body_html=data.body_html,
        kind=data.kind,
        via=data.channel,
        attachments=uploads,
    )
    loaded = thread(me, message.ticket).get(pk=message.pk)
    return HttpStatus(201, MessageOut.of(loaded, staff=me.is_agent_or_admin))


@router.get(
    "/tickets/{ticket_id}/events",
    response=list[AuditEventOut],
    summary="The ticket's audit trail (service team only)",
)
def list_events(request: HttpRequest, ticket_id: str) -> list[AuditEventOut]:
    me = actor(request)
    ticket = access.get_ticket(me, ticket_id)
    access.require_staff(me)
    events = ticket.audit_events.select_related("actor").order_by("id")[:1000]
    return [
        AuditEventOut(
            verb=e.verb,
            actor=PersonRef.of(e.actor),
            before=e.before,
            after=e.after,
            created_at=e.created_at,
        )
        for e in events
    ]


@router.get(
    "/attachments/{attachment_id}",
    url_name="download_attachment",
    summary="Download an attachment",
    response={200: None},
)
def download_attachment(request: HttpRequest, attachment_id: str) -> FileResponse:
    attachment = access.get_attachment(actor(request), attachment_id)
    return attachment_response(attachment)


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download, never rendered inline: uploaded HTML or SVG cannot run here."""
    response = FileResponse(
        open_blob(attachment.blob),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _staff(me: User, public_id: str) -> User:
    if public_id == "me":
        return me
    agent = access.staff_by_public_ids([public_id]).first()
    if agent is None:
        raise ValidationFailed({"assignee": _("No agent %(id)s.") % {"id": public_id}})
    return agent
