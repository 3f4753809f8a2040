"""Writing canned replies (admins) and filling them in for a ticket (agents)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.audit.services import record
from quietdesk.errors import ValidationFailed
from quietdesk.replies.models import CannedReply
from quietdesk.text import clean_body, clean_line, pick_language
from quietdesk.tickets.models import Ticket

#: What a canned reply may contain, and what each placeholder becomes.
PLACEHOLDERS = {
    "customer.first_name": gettext_lazy("the customer's first name"),
    "customer.name": gettext_lazy("the customer's full name"),
    "customer.email": gettext_lazy("the customer's email address"),
    "ticket.number": gettext_lazy("the ticket number"),
    "ticket.subject": gettext_lazy("the ticket's subject"),
    "agent.first_name": gettext_lazy("your first name"),
    "agent.name": gettext_lazy("your full name"),
}
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")
TEXT_MAX_CHARS = 20_000


@dataclass(frozen=True)
class CannedReplyIn:
    name: str
    texts: dict[str, str] = field(default_factory=dict)
    team: Team | None = None


def visible_replies(actor: User) -> QuerySet[CannedReply]:
    """The canned replies ``actor`` may use: everyone's, and their teams'."""
    access.require_staff(actor)
    replies = CannedReply.objects.select_related("team")
    if actor.is_admin or access.agent_sees_all_teams(actor):
        return replies
    return replies.filter(Q(team__isnull=True) | Q(team__members=actor)).distinct()


def save_reply(
    *, actor: User, data: CannedReplyIn, reply: CannedReply | None = None
) -> CannedReply:
    access.require_admin(actor)
    name = clean_line(data.name)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the reply a name.")
    elif len(name) > 100:
        errors["name"] = _("A name is at most %(n)d characters.") % {"n": 100}
    elif CannedReply.objects.filter(name=name).exclude(pk=reply.pk if reply else 0).exists():
        errors["name"] = _("Another canned reply has this name.")
    languages = dict(settings.LANGUAGES)
    texts = {code: clean_body(text) for code, text in data.texts.items() if code in languages}
    texts = {code: text for code, text in texts.items() if text.strip()}
    if not texts:
        errors["texts"] = _("Write the reply in at least one language.")
    for code, text in texts.items():
        if len(text) > TEXT_MAX_CHARS:
            errors[f"text_{code}"] = _("A text is at most %(n)d characters.") % {
                "n": TEXT_MAX_CHARS
            }
        unknown = sorted({m for m in PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})
        if unknown:
            errors[f"text_{code}"] = _("Unknown placeholder: %(name)s. Available: %(names)s.") % {
                "name": "{{ " + unknown[0] + " }}",
                "names": ", ".join("{{ " + p + " }}" for p in PLACEHOLDERS),
            }
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = {"name": reply.name, "texts": reply.texts} if reply else {}
        reply = reply or CannedReply()
        reply.name = name
        reply.texts = texts
        reply.team = data.team
        reply.updated_at = timezone.now()
        reply.save()
        record(
            actor=actor,
            verb="canned_reply.saved",
            target=reply,
            before=before,
            after={
                "name": name,
                "texts": texts,
                "team": data.team.public_id if data.team else None,
            },
        )
    return reply


def delete_reply(*, actor: User, reply: CannedReply) -> None:
    access.require_admin(actor)
    with transaction.atomic():
        record(actor=actor, verb="canned_reply.deleted", target=reply, before={"name": reply.name})
        reply.delete()


@dataclass(frozen=True)
class Filled:
    text: str
    language: str  # the language of the text used


def fill(reply: CannedReply, *, ticket: Ticket, agent: User) -> Filled:
    """The reply's text in the customer's language (else the default, else any), filled in."""
    language = pick_language(reply.texts, ticket.requester.language, settings.LANGUAGE_CODE)
    values = {
        "customer.first_name": _first_name(ticket.requester),
        "customer.name": ticket.requester.name or ticket.requester.email,
        "customer.email": ticket.requester.email,
        "ticket.number": str(ticket.number),
        "ticket.subject": ticket.subject,
        "agent.first_name": _first_name(agent),
        "agent.name": agent.name or agent.email,
    }
    text = PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), reply.texts.get(language, ""))
    return Filled(text=text, language=language)


def _first_name(person: User) -> str:
    return (person.name or "").split(" ", 1)[0] or person.email.split("@", 1)[0]
