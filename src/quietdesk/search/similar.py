"""Similar past tickets: what the team answered before to a request like this one.

The words worth looking for are taken from the ticket's subject and opening message
(common words left out, subject words first, the longest of the rest), and searched for
with OR, best matches first, through :func:`quietdesk.search.queries.search`: so only
tickets the reader may see are offered, ranked by the full-text index of either backend.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from quietdesk.accounts.models import Role, User
from quietdesk.search.queries import search
from quietdesk.search.query import QueryError
from quietdesk.search.text import tokens
from quietdesk.text import STOP_WORDS
from quietdesk.tickets.models import Message, MessageKind, Ticket

logger = logging.getLogger(__name__)

#: Words looked for; more make the OR query slower and no better.
WORDS = 8
#: How much of the opening message is read for its words.
OPENING_CHARS = 2000
ANSWER_CHARS = 300


@dataclass(frozen=True)
class Similar:
    ticket: Ticket
    #: The team's last public answer on it: how it was resolved, as far as text tells.
    answer: str
    answered_at: dt.datetime | None


def words_of(ticket: Ticket, opening: str) -> list[str]:
    """The distinctive words of a ticket: its subject's, then its opening's longest."""

    def useful(text: str) -> list[str]:
        return [w for w in tokens(text) if len(w) > 2 and w not in STOP_WORDS and not w.isdigit()]

    chosen = list(dict.fromkeys(useful(ticket.subject)))[:WORDS]
    counts = Counter(useful(opening[:OPENING_CHARS]))
    for word, _count in sorted(counts.items(), key=lambda item: (-len(item[0]), -item[1])):
        if len(chosen) >= WORDS:
            break
        if word not in chosen:
            chosen.append(word)
    return chosen


def similar_tickets(actor: User, ticket: Ticket, limit: int = 5) -> list[Similar]:
    opening = (
        Message.objects.filter(ticket=ticket)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
    ).first() or ""
    words = words_of(ticket, opening)
    if not words:
        return []
    try:
        hits = search(actor, " OR ".join(words), order="relevance", limit=limit + 1).hits
    except QueryError:  # words are letters and digits only; never expected, never a 500
        logger.warning("Similar tickets: query refused for ticket %s", ticket.number)
        return []
    others = [hit.ticket for hit in hits if hit.ticket.pk != ticket.pk][:limit]
    answers: dict[int, tuple[str, dt.datetime]] = {}
    replies = (
        Message.objects.filter(
            ticket__in=others,
            kind=MessageKind.REPLY,
            author__role__in=(Role.AGENT, Role.ADMIN),
        )
        .order_by("-created_at", "-id")
        .values_list("ticket_id", "body_text", "created_at")
    )
    for ticket_id, body, created_at in replies:
        answers.setdefault(ticket_id, (body, created_at))
    result = []
    for other in others:
        body, at = answers.get(other.pk, ("", None))
        text = " ".join(body.split())
        if len(text) > ANSWER_CHARS:
            text = text[: ANSWER_CHARS - 1].rstrip() + "…"
        result.append(Similar(other, text, at))
    return result
