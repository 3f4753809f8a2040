"""Shapes of what the API sends and accepts. Inputs refuse unknown fields."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.urls import reverse
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from quietdesk.accounts.models import Organisation, Team, User
from quietdesk.sla import services as sla
from quietdesk.sla.models import Clock, ClockState
from quietdesk.tickets.models import Attachment, Message, Tag, Ticket

Status = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
ChannelName = Literal["email", "portal", "web_form", "chat", "phone", "meeting", "api", "web"]
KindName = Literal["reply", "note", "call", "chat", "system"]
PublicId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
TagName = Annotated[str, StringConstraints(max_length=50)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- Output -------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """Every error answer of the API."""

    message: str = Field(description="What went wrong, in the reader's language.")
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    details: list[FieldError] = Field(description="One entry per field in error.")
    allowed: list[str] | None = Field(
        default=None, description="For `invalid_transition`: the statuses allowed next."
    )


class PersonRef(BaseModel):
    id: str
    name: str
    email: str
    role: str

    @classmethod
    def of(cls, person: User | None) -> PersonRef | None:
        if person is None:
            return None
        return cls(
            id=person.public_id, name=person.display_name, email=person.email, role=person.role
        )


class TeamOut(BaseModel):
    id: str
    name: str
    slug: str
    description: str = ""

    @classmethod
    def of(cls, team: Team | None) -> TeamOut | None:
        if team is None:
            return None
        return cls(id=team.public_id, name=team.name, slug=team.slug, description=team.description)


class OrganisationOut(BaseModel):
    id: str
    name: str
    shares_tickets: bool
    created_at: datetime.datetime

    @classmethod
    def of(cls, org: Organisation | None) -> OrganisationOut | None:
        if org is None:
            return None
        return cls(
            id=org.public_id,
            name=org.name,
            shares_tickets=org.shares_tickets,
            created_at=org.created_at,
        )


class ClockOut(BaseModel):
    kind: Literal["first_response", "next_response", "resolution"]
    state: Literal["running", "paused", "met", "missed", "cancelled"]
    business_hours: bool = Field(description="The target counts business hours, not all hours.")
    target_minutes: int
    started_at: datetime.datetime
    due_at: datetime.datetime | None = Field(description="Null while paused or ended.")
    warn_at: datetime.datetime | None
    paused: bool
    breached: bool
    stopped_at: datetime.datetime | None

    @classmethod
    def of(cls, clock: Clock, now: datetime.datetime) -> ClockOut:
        return cls(
            kind=clock.kind,  # type: ignore[arg-type]
            state=clock.state,  # type: ignore[arg-type]
            business_hours=clock.business,
            target_minutes=clock.target_seconds // 60,
            started_at=clock.started_at,
            due_at=clock.due_at,
            warn_at=clock.warn_at,
            paused=clock.state == ClockState.PAUSED,
            breached=sla.is_breached(clock, now),
            stopped_at=clock.stopped_at,
        )


class PolicyRef(BaseModel):
    id: str
    name: str


class TicketSlaOut(BaseModel):
    policy: PolicyRef | None
    reason: str = Field(description="Why this policy applies (or that none does).")
    clocks: list[ClockOut] = Field(description="The latest clock of each kind.")


class TicketOut(BaseModel):
    id: str = Field(description="Opaque id used in URLs.")
    number: int = Field(description="Human ticket number, for display.")
    subject: str
    status: Status
    priority: PriorityName
    channel: ChannelName
    requester: PersonRef
    organisation: OrganisationOut | None
    team: TeamOut | None
    assignee: PersonRef | None
    tags: list[str]
    follow_up_of: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    last_message_at: datetime.datetime
    first_response_at: datetime.datetime | None
    solved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    expected_response_at: datetime.datetime | None = Field(
        description="When the team promises its next answer; null when nobody is waiting "
        "for one (or the clock is paused while waiting on the customer)."
    )
    response_overdue: bool = Field(description="The promised answer is late.")
    sla: TicketSlaOut | None = Field(description="SLA policy and clocks; service team only.")

    @classmethod
    def of(cls, ticket: Ticket, *, staff: bool = True) -> TicketOut:
        requester = PersonRef.of(ticket.requester)
        assert requester is not None  # noqa: S101 - requester is not nullable
        now = timezone.now()
        clocks = _clocks(ticket)
        waiting = sla.expected_response(clocks)
        due = waiting.due_at if waiting is not None else None
        sla_out = None
        if staff:
            policy = ticket.sla_policy
            sla_out = TicketSlaOut(
                policy=PolicyRef(id=policy.public_id, name=policy.name) if policy else None,
                reason=ticket.sla_reason,
                clocks=[ClockOut.of(c, now) for c in sla.current_clocks(clocks)],
            )
        return cls(
            expected_response_at=due,
            response_overdue=due is not None and due < now,
            sla=sla_out,
            id=ticket.public_id,
            number=ticket.number,
            subject=ticket.subject,
            status=ticket.status,  # type: ignore[arg-type]
            priority=ticket.priority,  # type: ignore[arg-type]
            channel=ticket.channel,  # type: ignore[arg-type]
            requester=requester,
            organisation=OrganisationOut.of(ticket.organisation),
            team=TeamOut.of(ticket.team),
            assignee=PersonRef.of(ticket.assignee),
            tags=[tag.name for tag in _tags(ticket)],
            follow_up_of=ticket.follow_up_of.public_id if ticket.follow_up_of else None,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            last_message_at=ticket.last_message_at,
            first_response_at=ticket.first_response_at,
            solved_at=ticket.solved_at,
            closed_at=ticket.closed_at,
        )


def _clocks(ticket: Ticket) -> list[Clock]:
    """Clocks prefetched by ``with_ticket_relations``, else one query."""
    prefetched: list[Clock] | None = getattr(ticket, "clock_list", None)
    return prefetched if prefetched is not None else list(ticket.sla_clocks.all())


def _tags(ticket: Ticket) -> list[Tag]:
    """Tags prefetched by ``with_ticket_relations`` (sorted), else one query."""
    prefetched: list[Tag] | None = getattr(ticket, "tag_list", None)
    return prefetched if prefetched is not None else list(ticket.tags.order_by("name"))


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    download_url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.public_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            download_url=reverse("api-v1:download_attachment", args=[attachment.public_id]),
        )


class DeliveryOut(BaseModel):
    to: list[str]
    status: Literal["queued", "sent", "retrying", "failed"]
    attempts: int
    error: str
    sent_at: datetime.datetime | None


class MessageOut(BaseModel):
    id: str
    ticket: str = Field(description="Id of the ticket holding the message.")
    kind: KindName
    author: PersonRef | None
    body_text: str
    body_html: str
    channel: ChannelName
    channel_metadata: dict[str, object] = Field(
        description="Channel details (e.g. mail headers); empty for customers."
    )
    created_at: datetime.datetime
    attachments: list[AttachmentOut]
    delivery: list[DeliveryOut] = Field(
        description="Mail sent for this message and what became of it; service team only."
    )

    @classmethod
    def of(cls, message: Message, *, staff: bool) -> MessageOut:
        return cls(
            id=message.public_id,
            ticket=message.ticket.public_id,
            kind=message.kind,  # type: ignore[arg-type]
            author=PersonRef.of(message.author),
            body_text=message.body_text,
            body_html=message.body_html,
            channel=message.channel,  # type: ignore[arg-type]
            channel_metadata=message.channel_metadata if staff else {},
            created_at=message.created_at,
            attachments=[AttachmentOut.of(a) for a in message.attachments.all()],
            delivery=[
                DeliveryOut(
                    to=[*mail.to, *mail.cc],
                    status=mail.status,  # type: ignore[arg-type]
                    attempts=mail.attempts,
                    error=mail.last_error,
                    sent_at=mail.sent_at,
                )
                for mail in message.outbound_mails.all()
            ]
            if staff
            else [],
        )


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class ContactOut(BaseModel):
    id: str
    name: str
    email: str
    emails: list[str]
    phones: list[str]
    organisation: OrganisationOut | None
    time_zone: str
    language: str
    created_at: datetime.datetime

    @classmethod
    def of(cls, person: User) -> ContactOut:
        return cls(
            id=person.public_id,
            name=person.name,
            email=person.email,
            emails=[e.address for e in person.email_addresses.all()],
            phones=[p.number for p in person.phone_numbers.all()],
            organisation=OrganisationOut.of(person.organisation),
            time_zone=person.time_zone,
            language=person.language,
            created_at=person.date_joined,
        )


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class MeOut(BaseModel):
    id: str
    name: str
    email: str
    role: str
    time_zone: str
    language: str
    organisation: OrganisationOut | None
    teams: list[TeamOut]


class AuditEventOut(BaseModel):
    verb: str
    actor: PersonRef | None
    before: dict[str, object]
    after: dict[str, object]
    created_at: datetime.datetime


# --- Input -------------------------------------------------------------------------------


class TicketIn(Input):
    subject: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    body: Annotated[str, StringConstraints(max_length=1_000_000)] = ""
    body_html: Annotated[str, StringConstraints(max_length=2_000_000)] = ""
    requester: PublicId | None = Field(
        default=None, description="Contact id; staff only. Defaults to yourself."
    )
    requester_email: Annotated[str, StringConstraints(max_length=254)] | None = Field(
        default=None, description="Staff only: find or create the contact with this address."
    )
    priority: PriorityName = "normal"
    channel: ChannelName = "api"
    team: PublicId | None = Field(default=None, description="Team id or slug.")
    assignee: PublicId | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=50)
    copied: list[PublicId] = Field(
        default_factory=list, max_length=50, description="Contact ids copied on the ticket."
    )


class TicketPatch(Input):
    """Only the fields sent change; ``null`` clears the team or assignee."""

    status: Status | None = None
    priority: PriorityName | None = None
    team: PublicId | None = None
    assignee: PublicId | None = None
    tags: list[TagName] | None = Field(default=None, max_length=50)


class MessageIn(Input):
    body: Annotated[str, StringConstraints(max_length=1_000_000)] = ""
    body_html: Annotated[str, StringConstraints(max_length=2_000_000)] = ""
    kind: Literal["reply", "note", "call"] = "reply"
    channel: ChannelName = "api"


class ContactIn(Input):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    organisation: PublicId | None = None
    emails: list[Annotated[str, StringConstraints(max_length=254)]] = Field(
        default_factory=list, max_length=20
    )
    phones: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    time_zone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    language: Annotated[str, StringConstraints(max_length=8)] | None = None


class OrganisationIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    shares_tickets: bool = False
    notes: Annotated[str, StringConstraints(max_length=10_000)] = ""


class TeamIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    slug: Annotated[str, StringConstraints(max_length=50)] = ""
    description: Annotated[str, StringConstraints(max_length=10_000)] = ""
