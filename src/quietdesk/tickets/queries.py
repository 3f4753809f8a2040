"""Reusable reads of tickets, always starting from what the actor may see."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.audit.models import AuditEvent
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


def filter_tickets(
    actor: User, filters: TicketFilters, tickets: QuerySet[Ticket] | None = None
) -> QuerySet[Ticket]:
    """``tickets`` (by default every ticket ``actor`` may see) narrowed by ``filters``."""
    tickets = access.visible_tickets(actor) if tickets is None else tickets
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


#: The changes worth a line in a ticket's timeline (the rest stays in the audit trail).
TIMELINE_VERBS = (
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.priority_changed",
    "ticket.tags_changed",
    "ticket.followed_up",
    "sla.policy_changed",
    "sla.clock_breached",
)
#: What a customer sees of them in the portal.
CUSTOMER_TIMELINE_VERBS = ("ticket.status_changed",)


@dataclass(frozen=True)
class TimelineEntry:
    """A message or a change, in the order they happened."""

    at: datetime.datetime
    message: Message | None = None
    event: AuditEvent | None = None


def timeline(
    actor: User, ticket: Ticket, *, fold_after: int | None = None, keep: int = 40
) -> tuple[list[TimelineEntry], int]:
    """The thread and the changes around it as ``actor`` may read them, and how many
    entries were folded away.

    With ``fold_after``, a longer timeline keeps its first message and the latest ``keep``
    messages (with the changes since the earliest of them): a long thread then costs what
    a short one does. A fixed number of queries whatever the thread's length.
    """
    verbs = TIMELINE_VERBS if actor.is_agent_or_admin else CUSTOMER_TIMELINE_VERBS
    changes = list(
        AuditEvent.objects.filter(ticket=ticket, verb__in=verbs)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    messages = thread(actor, ticket)
    folded = 0
    if fold_after is not None:
        order = list(messages.order_by("created_at", "id").values_list("pk", "created_at"))
        if len(order) + len(changes) > fold_after and len(order) > keep + 1:
            kept = [order[0], *order[-keep:]]
            since = kept[1][1]
            shown_changes = [c for c in changes if c.created_at >= since]
            folded = len(order) + len(changes) - len(kept) - len(shown_changes)
            changes = shown_changes
            messages = messages.filter(pk__in=[pk for pk, _at in kept])
    entries = [TimelineEntry(m.created_at, message=m) for m in messages]
    entries += [TimelineEntry(e.created_at, event=e) for e in changes]
    # Stable: a message and the status change it caused keep that order.
    entries.sort(key=lambda entry: (entry.at, entry.event is not None))
    return entries, folded


def names_by_public_id(public_ids: set[str]) -> dict[str, str]:
    """Display names of the people and teams that timeline events refer to."""
    found = {p.public_id: p.display_name for p in User.objects.filter(public_id__in=public_ids)}
    found |= dict(Team.objects.filter(public_id__in=public_ids).values_list("public_id", "name"))
    return found


def requester_history(actor: User, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """The requester's other tickets (and their organisation's), newest first."""
    tickets = access.visible_tickets(actor).filter(requester_id=ticket.requester_id)
    return list(tickets.exclude(pk=ticket.pk).select_related("team").order_by("-id")[:limit])
