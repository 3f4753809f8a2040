"""One-click satisfaction ratings.

When a ticket is solved its requester receives a mail with one link per score. A link
carries a signed token (the ticket and its requester, valid :data:`LINK_DAYS` days) and
the score; opening it only shows a confirmation page with that score chosen, and the
rating is stored when the page is submitted, so a mail scanner following links rates
nothing. Rating again replaces the score (the audit log keeps every one).
"""

from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quietdesk import events
from quietdesk.audit.services import record
from quietdesk.errors import NotAllowed, NotFound, ValidationFailed
from quietdesk.ratings.models import Rating, Score
from quietdesk.text import clean_body
from quietdesk.tickets.models import Ticket
from quietdesk.tickets.states import Status

#: How long a rating link works.
LINK_DAYS = 60
COMMENT_MAX_CHARS = 5000
_SALT = "quietdesk.ratings.link"

#: Tickets in these states can be rated.
RATEABLE = frozenset({Status.SOLVED, Status.CLOSED})


def link_token(ticket: Ticket) -> str:
    """The secret part of the ticket's rating links (signed, not stored)."""
    return signing.dumps([ticket.public_id, ticket.requester.public_id], salt=_SALT, compress=False)


def ticket_for_token(token: str) -> Ticket | None:
    """The ticket a rating link is for, or None when the link is forged, old or stale."""
    try:
        ticket_id, person_id = signing.loads(token, salt=_SALT, max_age=LINK_DAYS * 86400)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return (
        Ticket.objects.select_related("requester", "rating", "team")
        .filter(public_id=ticket_id, requester__public_id=person_id)
        .first()
    )


def parse_score(raw: object) -> int | None:
    try:
        score = int(str(raw))
    except ValueError:
        return None
    return score if score in Score.values else None


def rate(*, token: str, score: object, comment: str = "") -> Rating:
    """Store the rating of a solved or closed ticket given through its rating link.

    The link's token stands for the requester (they received it, or see it in the portal
    on their own request); it is the only way to rate.
    """
    ticket = ticket_for_token(token)
    if ticket is None:
        raise NotFound(_("This rating link no longer works"))
    value = parse_score(score)
    errors: dict[str, str] = {}
    if value is None:
        errors["score"] = _("Choose a score from 1 to 5.")
    comment = clean_body(comment).strip()
    if len(comment) > COMMENT_MAX_CHARS:
        errors["comment"] = _("A comment has at most %(n)d characters.") % {"n": COMMENT_MAX_CHARS}
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        # Read under the ticket's lock: a reply reopening it at this moment wins.
        status = (
            Ticket.objects.select_for_update().values_list("status", flat=True).get(pk=ticket.pk)
        )
        if status not in RATEABLE:
            raise NotAllowed(_("This ticket is open again: you can rate it once it is solved."))
        existing = Rating.objects.filter(ticket=ticket).first()
        before = {"score": existing.score, "comment": existing.comment} if existing else {}
        rating = existing or Rating(ticket=ticket, person_id=ticket.requester_id, created_at=now)
        rating.score = value  # type: ignore[assignment]
        rating.comment = comment
        rating.updated_at = now
        rating.save()
        record(
            actor=ticket.requester,
            verb="ticket.rated",
            target=ticket,
            ticket=ticket,
            before=before,
            after={"score": value, "comment": comment},
        )
        events.emit("ticket.rated", ticket_id=ticket.pk, score=value)
    return rating
