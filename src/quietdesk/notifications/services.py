"""Notifications for staff: written on commit of the change that causes them.

SLA warnings and breaches notify the ticket's assignee, or every member of its team
when nobody is assigned (the administrators when it has no team either). A breach is
urgent; a warning is not. Delivery beyond the in-app list (batched digests, pushes)
builds on these rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from quietdesk import events
from quietdesk.accounts.models import Role, User
from quietdesk.notifications.models import Notification
from quietdesk.sla.models import Clock


def notify(
    recipients: Iterable[User],
    *,
    verb: str,
    ticket_id: int | None,
    payload: dict[str, object],
    urgent: bool = False,
) -> list[Notification]:
    rows = [
        Notification(
            recipient=person, ticket_id=ticket_id, verb=verb, payload=payload, urgent=urgent
        )
        for person in {p.pk: p for p in recipients if p.is_active}.values()
    ]
    return Notification.objects.bulk_create(rows)


def people_responsible(clock: Clock) -> list[User]:
    ticket = clock.ticket
    if ticket.assignee is not None:
        return [ticket.assignee]
    if ticket.team is not None:
        members = list(ticket.team.members.filter(is_active=True))
        if members:
            return members
    return list(User.objects.filter(role=Role.ADMIN, is_active=True))


@events.subscribe("sla.clock_warning")
@events.subscribe("sla.clock_breached")
def _sla_alert(event: events.Event) -> None:
    clock = (
        Clock.objects.select_related("ticket__assignee", "ticket__team")
        .filter(pk=event.payload["clock_id"])
        .first()
    )
    if clock is None:
        return
    with transaction.atomic():
        notify(
            people_responsible(clock),
            verb=event.name,
            ticket_id=clock.ticket_id,
            payload={
                "kind": clock.kind,
                "due_at": clock.due_at.isoformat() if clock.due_at else None,
                "ticket": clock.ticket.public_id,
                "number": clock.ticket.number,
                "subject": clock.ticket.subject,
            },
            urgent=event.name == "sla.clock_breached",
        )
