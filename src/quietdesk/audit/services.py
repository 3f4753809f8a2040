"""Writing the audit trail. Every service that changes data calls :func:`record`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from quietdesk.audit.models import AuditEvent

if TYPE_CHECKING:
    from quietdesk.accounts.models import User
    from quietdesk.tickets.models import Ticket


def record(
    *,
    actor: User | None,
    verb: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ticket: Ticket | None = None,
) -> AuditEvent:
    """Write one audit event for ``target``; call it inside the change's transaction."""
    return AuditEvent.objects.create(
        actor=actor,
        verb=verb,
        target_type=target._meta.label_lower,
        target_id=str(getattr(target, "public_id", target.pk)),
        ticket=ticket,
        before=before or {},
        after=after or {},
    )
