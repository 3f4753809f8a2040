"""The ticket status machine.

new ─▶ open ─▶ pending (waiting on the customer) / on hold (waiting on a third party)
                 ─▶ solved ─▶ closed (final)

A customer's reply reopens a pending or solved ticket; a reply to a closed ticket
starts a linked follow-up ticket instead (see ``tickets.services.post_message``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from quietdesk.errors import InvalidTransition


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Waiting on customer")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


ALLOWED_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED),
    Status.OPEN: (Status.PENDING, Status.ON_HOLD, Status.SOLVED),
    Status.PENDING: (Status.OPEN, Status.ON_HOLD, Status.SOLVED),
    Status.ON_HOLD: (Status.OPEN, Status.PENDING, Status.SOLVED),
    Status.SOLVED: (Status.OPEN, Status.CLOSED),
    Status.CLOSED: (),
}

#: Statuses in which the team still owes the customer something.
ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})

#: Statuses a customer's reply moves back to open.
REOPENED_BY_CUSTOMER_REPLY = frozenset({Status.PENDING, Status.SOLVED})


def allowed_next(current: str) -> tuple[Status, ...]:
    return ALLOWED_TRANSITIONS[Status(current)]


def check_transition(current: str, requested: str) -> Status:
    """Return ``requested`` as a Status, or raise InvalidTransition naming the allowed ones."""
    allowed = allowed_next(current)
    codes = [s.value for s in allowed]
    labels = {s.value: s.label for s in Status}
    try:
        target = Status(requested)
    except ValueError:
        raise InvalidTransition(current, requested, codes, labels=labels) from None
    if target not in allowed:
        raise InvalidTransition(current, requested, codes, labels=labels)
    return target
