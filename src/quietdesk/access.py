"""Who may see and change what: the one place where permission scoping lives.

Every read of tickets, messages, attachments, people, organisations and teams on
behalf of a person goes through a function here that takes that person (the
*actor*). Views, the API and services never filter by ownership themselves.

The rules:

* **Admins** see and change everything.
* **Agents** see tickets of the teams they belong to and tickets not yet given to
  any team (triage); with ``sees_all_teams`` on their profile, or
  ``QUIETDESK_AGENTS_SEE_ALL_TEAMS``, every ticket. They change what they see.
* **Customers** see the tickets they requested or are copied on, plus every ticket
  of their organisation when it shares tickets. They read public messages only,
  reply to what they see, and may mark their own requests solved.

An object the actor may not see is reported as *not found* (no existence leak);
one they see but may not change raises :class:`~quietdesk.errors.NotAllowed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from quietdesk.accounts.models import Organisation, Role, Team, User
from quietdesk.errors import NotAllowed, NotFound
from quietdesk.kb.models import Article, ArticleStatus, Visibility
from quietdesk.mail.models import Mailbox
from quietdesk.notifications.models import Notification
from quietdesk.schedule.models import Calendar
from quietdesk.sla.models import Policy
from quietdesk.tickets.models import (
    PUBLIC_KINDS,
    STAFF_ONLY_KINDS,
    Attachment,
    Message,
    Ticket,
)
from quietdesk.tickets.states import Status

if TYPE_CHECKING:
    from collections.abc import Iterable


def agent_sees_all_teams(actor: User) -> bool:
    return actor.role == Role.ADMIN or actor.sees_all_teams or settings.AGENTS_SEE_ALL_TEAMS


# --- Tickets -------------------------------------------------------------------------


def visible_tickets(actor: User) -> QuerySet[Ticket]:
    """Every ticket ``actor`` may read."""
    tickets = Ticket.objects.all()
    if not actor.is_active:
        return tickets.none()
    if actor.role == Role.ADMIN:
        return tickets
    if actor.role == Role.AGENT:
        if agent_sees_all_teams(actor):
            return tickets
        # Subqueries rather than joins: no duplicate rows, so no DISTINCT on big lists.
        return tickets.filter(
            Q(team__isnull=True)
            | Q(team_id__in=Team.members.through.objects.filter(user_id=actor.pk).values("team_id"))
        )
    scope = Q(requester=actor) | Q(
        pk__in=Ticket.copied.through.objects.filter(user_id=actor.pk).values("ticket_id")
    )
    organisation = actor.organisation
    if organisation is not None and organisation.shares_tickets:
        scope |= Q(organisation_id=organisation.pk)
    return tickets.filter(scope)


def get_ticket(actor: User, public_id: str) -> Ticket:
    """The ticket ``public_id`` if ``actor`` may read it; NotFound otherwise."""
    try:
        return visible_tickets(actor).get(public_id=public_id)
    except Ticket.DoesNotExist:
        raise NotFound(_("No ticket %(id)s.") % {"id": public_id}) from None


def can_see_ticket(actor: User, ticket: Ticket) -> bool:
    """The rule of :func:`visible_tickets` for one ticket, without a query when obvious."""
    if not actor.is_active:
        return False
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.CUSTOMER and ticket.requester_id == actor.pk:
        return True
    if actor.role == Role.AGENT and (ticket.team_id is None or agent_sees_all_teams(actor)):
        return True
    return visible_tickets(actor).filter(pk=ticket.pk).exists()


def require_can_see(actor: User, ticket: Ticket) -> None:
    if not can_see_ticket(actor, ticket):
        raise NotFound(_("No ticket %(id)s.") % {"id": ticket.public_id})


def require_can_manage(actor: User, ticket: Ticket) -> None:
    """Assignment, priority, tags, team and free status changes: staff only."""
    require_can_see(actor, ticket)
    if not actor.is_agent_or_admin:
        raise NotAllowed(_("Only the service team can change this."))


def require_can_change_status(actor: User, ticket: Ticket, status: str) -> None:
    require_can_see(actor, ticket)
    if actor.is_agent_or_admin:
        return
    if status == Status.SOLVED and ticket.requester_id == actor.pk:
        return
    raise NotAllowed(_("Customers can only mark their own requests as solved."))


def require_can_post(actor: User, ticket: Ticket, kind: str) -> None:
    require_can_see(actor, ticket)
    if kind in STAFF_ONLY_KINDS and not actor.is_agent_or_admin:
        raise NotAllowed(_("Only the service team can add internal notes and call logs."))


# --- Messages and attachments ---------------------------------------------------------


def visible_messages(actor: User, ticket: Ticket) -> QuerySet[Message]:
    """The messages of ``ticket`` (already checked visible) that ``actor`` may read."""
    messages = Message.objects.filter(ticket=ticket)
    if not actor.is_agent_or_admin:
        messages = messages.filter(kind__in=PUBLIC_KINDS)
    return messages


def get_attachment(actor: User, public_id: str) -> Attachment:
    """The attachment if ``actor`` may read both its ticket and its message."""
    attachment = (
        Attachment.objects.select_related("blob", "message", "ticket")
        .filter(public_id=public_id, ticket__in=visible_tickets(actor))
        .first()
    )
    if attachment is None or (
        not actor.is_agent_or_admin and attachment.message.kind not in PUBLIC_KINDS
    ):
        raise NotFound(_("No attachment %(id)s.") % {"id": public_id})
    return attachment


# --- People, organisations, teams -------------------------------------------------------


def require_staff(actor: User) -> None:
    if not actor.is_agent_or_admin:
        raise NotAllowed(_("Only the service team can do this."))


def require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only administrators can do this."))


def visible_contacts(actor: User) -> QuerySet[User]:
    """Customers' contact records: the service team sees them all, a customer only itself."""
    contacts = User.objects.filter(role=Role.CUSTOMER)
    if actor.is_agent_or_admin:
        return contacts
    return contacts.filter(pk=actor.pk)


def get_contact(actor: User, public_id: str) -> User:
    try:
        return visible_contacts(actor).select_related("organisation").get(public_id=public_id)
    except User.DoesNotExist:
        raise NotFound(_("No contact %(id)s.") % {"id": public_id}) from None


def visible_organisations(actor: User) -> QuerySet[Organisation]:
    if actor.is_agent_or_admin:
        return Organisation.objects.all()
    if actor.organisation_id is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=actor.organisation_id)


def get_organisation(actor: User, public_id: str) -> Organisation:
    try:
        return visible_organisations(actor).get(public_id=public_id)
    except Organisation.DoesNotExist:
        raise NotFound(_("No organisation %(id)s.") % {"id": public_id}) from None


def visible_teams(actor: User) -> QuerySet[Team]:
    if actor.is_agent_or_admin:
        return Team.objects.all()
    return Team.objects.none()


def get_team(actor: User, public_id_or_slug: str) -> Team:
    team = (
        visible_teams(actor)
        .filter(Q(public_id=public_id_or_slug) | Q(slug=public_id_or_slug))
        .first()
    )
    if team is None:
        raise NotFound(_("No team %(id)s.") % {"id": public_id_or_slug})
    return team


def assignable_agents(team: Team | None) -> QuerySet[User]:
    """Who may be given a ticket of ``team``: its members, and admins."""
    agents = User.objects.filter(is_active=True, role__in=[Role.AGENT, Role.ADMIN])
    if team is None:
        return agents
    return agents.filter(Q(role=Role.ADMIN) | Q(teams=team)).distinct()


def staff_by_public_ids(public_ids: Iterable[str]) -> QuerySet[User]:
    return User.objects.filter(public_id__in=list(public_ids), role__in=[Role.AGENT, Role.ADMIN])


def visible_staff(actor: User) -> QuerySet[User]:
    """The agents and admins, active or not: the service team sees its own members."""
    require_staff(actor)
    return User.objects.filter(role__in=[Role.AGENT, Role.ADMIN])


def get_staff_member(actor: User, public_id: str) -> User:
    found = visible_staff(actor).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(_("No team member %(id)s.") % {"id": public_id})
    return found


# --- Business hours and service levels ------------------------------------------------------
# Calendars and policies are settings of the service team: agents read them (they explain
# due times), administrators change them; customers never see them.


def visible_calendars(actor: User) -> QuerySet[Calendar]:
    require_staff(actor)
    return Calendar.objects.all()


def get_calendar(actor: User, public_id: str) -> Calendar:
    found = visible_calendars(actor).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(_("No calendar %(id)s.") % {"id": public_id})
    return found


def visible_policies(actor: User) -> QuerySet[Policy]:
    require_staff(actor)
    return Policy.objects.all()


def get_policy(actor: User, public_id: str) -> Policy:
    found = visible_policies(actor).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(_("No SLA policy %(id)s.") % {"id": public_id})
    return found


# --- Mailboxes ----------------------------------------------------------------------------
# A mailbox's settings name its IMAP server and account: administrators only.


def visible_mailboxes(actor: User) -> QuerySet[Mailbox]:
    require_admin(actor)
    return Mailbox.objects.all()


def get_mailbox(actor: User, public_id: str) -> Mailbox:
    found = visible_mailboxes(actor).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(_("No mailbox %(id)s.") % {"id": public_id})
    return found


def own_notifications(actor: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=actor)


# --- Knowledge base ---------------------------------------------------------------------
# Visitors (None) and customers read published public articles; the service team reads
# every article, drafts and internal ones included, and writes them (``kb.services``).


def visible_articles(actor: User | None) -> QuerySet[Article]:
    """Every article ``actor`` may read; ``None`` is a visitor who is not signed in."""
    articles = Article.objects.all()
    if actor is not None and actor.is_active and actor.is_agent_or_admin:
        return articles
    return articles.filter(status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)


def get_article(actor: User | None, slug: str) -> Article:
    """The article at ``slug`` if ``actor`` may read it; NotFound otherwise (drafts too)."""
    found = visible_articles(actor).select_related("category").filter(slug=slug).first()
    if found is None:
        raise NotFound(_("No article %(id)s.") % {"id": slug})
    return found


def manageable_articles(actor: User) -> QuerySet[Article]:
    """The articles ``actor`` may change: all of them for the service team."""
    require_staff(actor)
    return Article.objects.all()
