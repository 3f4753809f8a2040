"""Reusable reads of tickets, always starting from what the actor may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts.models import User
from quietdesk.errors import ValidationFailed
from quietdesk.tickets.models import Attachment, Message, Tag, Ticket


@dataclass(frozen=True)
class TicketFilters:
    """Each field narrows the list; empty means no restriction."""

    status: Sequence[str] = ()
    priority: Sequence[str] = ()
    channel: Sequence[str] = ()
    team: str | None = None  # id or slug, or "none"
    assignee: str | None = None  # id, "me" or "none"
    requester: str | None = None
    organisation: str | None = None
    tags: Sequence[str] = field(default_factory=tuple)


def with_ticket_relations(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Everything a ticket listing shows, in a fixed number of queries."""
    return tickets.select_related(
        "requester", "organisation", "team", "assignee", "follow_up_of", "sla_policy"
    ).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="tag_list"),
        Prefetch("sla_clocks", to_attr="clock_list"),
    )


def filter_tickets(actor: User, filters: TicketFilters) -> QuerySet[Ticket]:
    tickets = access.visible_tickets(actor)
    if filters.status:
        tickets = tickets.filter(status__in=list(filters.status))
    if filters.priority:
        tickets = tickets.filter(priority__in=list(filters.priority))
    if filters.channel:
        tickets = tickets.filter(channel__in=list(filters.channel))
    if filters.team:
        if filters.team == "none":
            tickets = tickets.filter(team__isnull=True)
        else:
            tickets = (
                tickets.filter(team=access.get_team(actor, filters.team))
                if actor.is_agent_or_admin
                else tickets.none()
            )
    if filters.assignee:
        if filters.assignee == "none":
            tickets = tickets.filter(assignee__isnull=True)
        elif filters.assignee == "me":
            tickets = tickets.filter(assignee=actor)
        else:
            tickets = tickets.filter(assignee__public_id=filters.assignee)
    if filters.requester:
        tickets = tickets.filter(requester__public_id=filters.requester)
    if filters.organisation:
        tickets = tickets.filter(organisation__public_id=filters.organisation)
    for tag in filters.tags:
        if len(tag) > 50:
            raise ValidationFailed({"tag": _("A tag is at most 50 characters.")})
        tickets = tickets.filter(tags__name=tag.strip().lower())
    return tickets


def thread(actor: User, ticket: Ticket) -> QuerySet[Message]:
    """The messages of a ticket the actor may read, with authors and attachments."""
    return (
        access.visible_messages(actor, ticket)
        .select_related("author", "ticket")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("id")),
            "outbound_mails",
        )
    )
