"""Every change to a ticket goes through one function here, one per intent.

Each function takes the acting person as ``actor`` (or ``author``), checks what
they may do through :mod:`quietdesk.access`, writes its rows and an audit event in
one transaction, and schedules side effects with :func:`quietdesk.events.emit`,
which delivers them only after the commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quietdesk import access, events
from quietdesk.accounts.models import Role, Team, User
from quietdesk.audit.services import record
from quietdesk.errors import NotAllowed, TicketClosed, ValidationFailed
from quietdesk.search import indexing as search_index
from quietdesk.sla import clocks
from quietdesk.text import clean_body, clean_line
from quietdesk.tickets import files
from quietdesk.tickets.html import html_to_text, sanitise_html
from quietdesk.tickets.inbox import InboxQuery
from quietdesk.tickets.models import (
    Attachment,
    Channel,
    Message,
    MessageKind,
    Priority,
    SavedView,
    Tag,
    Ticket,
    TicketCounter,
)
from quietdesk.tickets.states import REOPENED_BY_CUSTOMER_REPLY, Status, check_transition


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


#: Default for optional arguments meaning "leave as it is" (``None`` means "clear").
UNCHANGED: Final = _Unchanged()

SUBJECT_MAX_CHARS = 250
TAG_MAX_CHARS = 50
MAX_TAGS = 50


# --- Creating tickets --------------------------------------------------------------------


def create_ticket(
    *,
    actor: User | None,
    subject: str,
    body: str = "",
    body_html: str = "",
    channel: str,
    requester: User | None = None,
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    copied: Iterable[User] = (),
    attachments: Sequence[files.Upload] = (),
    channel_metadata: dict[str, Any] | None = None,
    created_at: datetime.datetime | None = None,
) -> Ticket:
    """Open a ticket whose first message is ``body`` from ``requester``.

    A customer always opens tickets for themself and cannot choose the team,
    assignee or tags; the service team can open a ticket on a customer's behalf.
    ``actor`` is None when a channel opens the ticket on its own (a mail to a team's
    mailbox): the requester is then required and the channel's routing sets the team.
    """
    requester = requester or actor
    if requester is None:
        raise ValidationFailed({"requester": _("A ticket needs a requester.")})
    tag_names = normalise_tags(tags)
    if actor is not None and actor.is_customer:
        if requester.pk != actor.pk:
            raise NotAllowed(_("Customers can only open tickets for themselves."))
        if assignee is not None or team is not None or tag_names:
            raise NotAllowed(_("Only the service team can set the team, assignee or tags."))
    _check_choice("priority", priority, Priority.values)
    _check_choice("channel", channel, Channel.values)
    subject = _clean_subject(subject)
    body, body_html = _clean_bodies(body, body_html, attachments)
    copied = [person for person in copied if person.pk != requester.pk]
    if assignee is not None:
        _check_assignable(assignee, team)
    # Files last: nothing is stored for a request that a check above refuses.
    stored = files.store_uploads(attachments)
    now = created_at or timezone.now()
    policy, reason = clocks.match_policy(
        team=team,
        priority=priority,
        organisation_id=requester.organisation_id,
        channel=channel,
        tags=tag_names,
    )

    with transaction.atomic():
        ticket = Ticket.objects.create(
            sla_policy=policy,
            sla_reason=reason,
            number=_next_ticket_number(),
            subject=subject,
            priority=priority,
            channel=channel,
            requester=requester,
            organisation=requester.organisation,
            team=team,
            assignee=assignee,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        if copied:
            ticket.copied.set(copied)
        tag_objects = _tags_named(tag_names) if tag_names else []
        if tag_objects:
            ticket.tags.set(tag_objects)
        # Callers read the new ticket as a listing would, with no further query.
        ticket.tag_list = sorted(tag_objects, key=lambda tag: tag.name)  # type: ignore[attr-defined]
        record(
            actor=actor,
            verb="ticket.created",
            target=ticket,
            ticket=ticket,
            after=_snapshot(ticket, tag_names),
        )
        ticket.opening_message = _add_message(  # type: ignore[attr-defined]
            ticket=ticket,
            actor=actor,
            author=requester,
            kind=MessageKind.REPLY,
            body_text=body,
            body_html=body_html,
            channel=channel,
            channel_metadata=channel_metadata or {},
            attachments=stored,
            created_at=now,
        )
        ticket.clock_list = clocks.start_clocks(ticket, actor=actor, now=now)  # type: ignore[attr-defined]
        events.emit(
            "ticket.created",
            ticket_id=ticket.pk,
            actor_id=actor.pk if actor else None,
            channel=channel,
            attachments=len(stored),
        )
    return ticket


def _next_ticket_number() -> int:
    """Hand out the next display number; the row update serialises concurrent creators."""
    table = connection.ops.quote_name(TicketCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET value = value + 1 WHERE id = 1 RETURNING value")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        # The migration creates the row; recreate it if someone deleted it.
        last = Ticket.objects.order_by("-number").values_list("number", flat=True).first() or 0
        TicketCounter.objects.create(id=1, value=last + 1)
        return last + 1
    return int(row[0])


# --- Messages ------------------------------------------------------------------------


def post_message(
    *,
    ticket: Ticket,
    author: User | None,
    body: str = "",
    body_html: str = "",
    kind: str = MessageKind.REPLY,
    attachments: Sequence[files.Upload] = (),
    via: str,
    channel_metadata: dict[str, Any] | None = None,
    created_at: datetime.datetime | None = None,
) -> Message:
    """Add a message to a ticket's thread: the one door for every channel.

    * a customer's reply reopens a ticket that was waiting on them or solved;
    * the first public reply of the service team marks the first response;
    * a reply to a closed ticket opens a linked follow-up ticket, which holds the
      message (read ``message.ticket`` for where it landed); internal notes and
      call logs cannot be added to a closed ticket.
    """
    _check_choice("kind", kind, MessageKind.values)
    _check_choice("channel", via, Channel.values)
    if author is None:
        if kind != MessageKind.SYSTEM:
            raise ValidationFailed(
                {"author": _("A message without an author must be a system message.")}
            )
    else:
        access.require_can_post(author, ticket, kind)
    body, body_html = _clean_bodies(body, body_html, attachments)
    stored = files.store_uploads(attachments)
    now = created_at or timezone.now()

    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == Status.CLOSED:
            if kind != MessageKind.REPLY or author is None:
                raise TicketClosed()
            ticket = _open_follow_up(closed=ticket, author=author, channel=via, now=now)
        message = _add_message(
            ticket=ticket,
            actor=author,
            author=author,
            kind=kind,
            body_text=body,
            body_html=body_html,
            channel=via,
            channel_metadata=channel_metadata or {},
            attachments=stored,
            created_at=now,
        )

        changed: list[str] = ["updated_at"]
        ticket.updated_at = now
        if kind != MessageKind.NOTE:
            ticket.last_message_at = now
            changed.append("last_message_at")
        if author is not None and kind == MessageKind.REPLY:
            if author.is_customer and ticket.status in REOPENED_BY_CUSTOMER_REPLY:
                _set_status(
                    ticket, actor=author, status=Status.OPEN, now=now, reason="customer_reply"
                )
                changed += ["status", "solved_at"]
            if author.is_customer or author.pk == ticket.requester_id:
                clocks.customer_wrote(ticket, actor=author, now=now)
            elif author.is_agent_or_admin:
                clocks.staff_replied(ticket, actor=author, now=now)
                if ticket.first_response_at is None:
                    ticket.first_response_at = now
                    changed.append("first_response_at")
                if ticket.status == Status.NEW:
                    _set_status(
                        ticket, actor=author, status=Status.OPEN, now=now, reason="first_response"
                    )
                    changed += ["status", "solved_at"]
        ticket.save(update_fields=sorted(set(changed)))
        events.emit(
            "message.posted",
            ticket_id=ticket.pk,
            message_id=message.pk,
            actor_id=author.pk if author else None,
            kind=kind,
            via=via,
            attachments=len(stored),
        )
    return message


def _open_follow_up(
    *, closed: Ticket, author: User, channel: str, now: datetime.datetime
) -> Ticket:
    requester = author if author.is_customer else closed.requester
    policy, reason = clocks.match_policy(
        team=closed.team,
        priority=closed.priority,
        organisation_id=requester.organisation_id,
        channel=channel,
        tags=[tag.name for tag in closed.tags.all()],
    )
    follow_up = Ticket.objects.create(
        sla_policy=policy,
        sla_reason=reason,
        number=_next_ticket_number(),
        subject=closed.subject,
        priority=closed.priority,
        channel=channel,
        requester=requester,
        organisation_id=requester.organisation_id,
        team_id=closed.team_id,
        assignee_id=closed.assignee_id,
        follow_up_of=closed,
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )
    copied = [p for p in closed.copied.all() if p.pk != requester.pk]
    if closed.requester_id != requester.pk:
        copied.append(closed.requester)
    follow_up.copied.set(copied)
    follow_up.tags.set(closed.tags.all())
    record(
        actor=author,
        verb="ticket.created",
        target=follow_up,
        ticket=follow_up,
        after={**_snapshot(follow_up, []), "follow_up_of": closed.public_id},
    )
    record(
        actor=author,
        verb="ticket.followed_up",
        target=closed,
        ticket=closed,
        after={"follow_up": follow_up.public_id},
    )
    clocks.start_clocks(follow_up, actor=author, now=now)
    events.emit("ticket.created", ticket_id=follow_up.pk, actor_id=author.pk)
    return follow_up


def _add_message(
    *,
    ticket: Ticket,
    actor: User | None,
    author: User | None,
    kind: str,
    body_text: str,
    body_html: str,
    channel: str,
    channel_metadata: dict[str, Any],
    attachments: Sequence[files.StoredUpload],
    created_at: datetime.datetime,
) -> Message:
    """Write the message, its attachments and its audit event.

    ``author`` wrote the message; ``actor`` is who entered it (an agent logging a
    customer's phone call opens a ticket whose first message the customer wrote).
    """
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        kind=kind,
        body_text=body_text,
        body_html=body_html,
        channel=channel,
        channel_metadata=channel_metadata,
        created_at=created_at,
    )
    attached = (
        Attachment.objects.bulk_create([_attachment(message, stored) for stored in attachments])
        if attachments
        else []
    )
    # In this transaction: searchable once committed.
    search_index.index_message(message, attachments=attached, new=True)
    record(
        actor=actor,
        verb="message.posted",
        target=message,
        ticket=ticket,
        after={"kind": message.kind, "channel": message.channel},
    )
    return message


def _attachment(message: Message, stored: files.StoredUpload) -> Attachment:
    return Attachment(
        message=message,
        ticket_id=message.ticket_id,
        blob=stored.blob,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.blob.size,
        created_at=message.created_at,
    )


# --- Status, assignment, priority, tags --------------------------------------------------


def change_status(*, ticket: Ticket, actor: User, status: str) -> Ticket:
    """Move the ticket through the status machine; the same status is a no-op."""
    access.require_can_change_status(actor, ticket, status)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == status:
            return ticket
        if ticket.status == Status.CLOSED:
            raise TicketClosed()
        now = timezone.now()
        _set_status(ticket, actor=actor, status=check_transition(ticket.status, status), now=now)
        ticket.updated_at = now
        ticket.save(update_fields=["status", "solved_at", "closed_at", "updated_at"])
    return ticket


def _set_status(
    ticket: Ticket,
    *,
    actor: User | None,
    status: Status,
    now: datetime.datetime,
    reason: str = "",
) -> None:
    """Apply a checked status change to ``ticket`` in memory and audit it; caller saves."""
    before = ticket.status
    ticket.status = status
    if status == Status.SOLVED:
        ticket.solved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
    else:
        ticket.solved_at = None
    after: dict[str, Any] = {"status": status.value}
    if reason:
        after["reason"] = reason
    record(
        actor=actor,
        verb="ticket.status_changed",
        target=ticket,
        ticket=ticket,
        before={"status": before},
        after=after,
    )
    clocks.status_changed(ticket, actor=actor, before=before, after=status, now=now)
    events.emit(
        "ticket.status_changed",
        ticket_id=ticket.pk,
        before=before,
        after=status.value,
        actor_id=actor.pk if actor else None,
    )


def assign(
    *,
    ticket: Ticket,
    actor: User,
    assignee: User | _Unchanged | None = UNCHANGED,
    team: Team | _Unchanged | None = UNCHANGED,
) -> Ticket:
    """Give the ticket to a team and/or an agent (``None`` clears either).

    An assignee must be an active agent of the ticket's team (or an admin).
    Moving a ticket to another team drops an assignee who is not in that team.
    """
    access.require_can_manage(actor, ticket)
    with transaction.atomic():
        ticket = _locked_open_ticket(ticket)
        before = {"team": _public_id(ticket.team), "assignee": _public_id(ticket.assignee)}
        new_team = ticket.team if isinstance(team, _Unchanged) else team
        if isinstance(assignee, _Unchanged):
            new_assignee = ticket.assignee
            if (
                new_assignee is not None
                and not access.assignable_agents(new_team).filter(pk=new_assignee.pk).exists()
            ):
                new_assignee = None
        else:
            new_assignee = assignee
            if new_assignee is not None:
                _check_assignable(new_assignee, new_team)
        ticket.team = new_team
        ticket.assignee = new_assignee
        after = {"team": _public_id(new_team), "assignee": _public_id(new_assignee)}
        if after == before:
            return ticket
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["team", "assignee", "updated_at"])
        record(
            actor=actor,
            verb="ticket.assigned",
            target=ticket,
            ticket=ticket,
            before=before,
            after=after,
        )
        if after["team"] != before["team"]:
            clocks.reconsider(ticket, actor=actor, now=ticket.updated_at)
        events.emit("ticket.assigned", ticket_id=ticket.pk, actor_id=actor.pk, **after)
    return ticket


def set_priority(*, ticket: Ticket, actor: User, priority: str) -> Ticket:
    access.require_can_manage(actor, ticket)
    _check_choice("priority", priority, Priority.values)
    with transaction.atomic():
        ticket = _locked_open_ticket(ticket)
        if ticket.priority == priority:
            return ticket
        before = ticket.priority
        ticket.priority = priority
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["priority", "updated_at"])
        record(
            actor=actor,
            verb="ticket.priority_changed",
            target=ticket,
            ticket=ticket,
            before={"priority": before},
            after={"priority": priority},
        )
        clocks.reconsider(ticket, actor=actor, now=ticket.updated_at)
        events.emit("ticket.priority_changed", ticket_id=ticket.pk, actor_id=actor.pk)
    return ticket


def set_tags(*, ticket: Ticket, actor: User, tags: Iterable[str]) -> Ticket:
    """Replace the ticket's tags with ``tags`` (normalised to lower case)."""
    names = normalise_tags(tags)
    return _retag(ticket, actor, lambda _current: names)


def change_tags(
    *, ticket: Ticket, actor: User, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> Ticket:
    """Add and remove some tags, keeping the others (read under the ticket's lock, so two
    agents tagging the same ticket at once both keep their tag)."""
    added = normalise_tags(add)
    removed = set(normalise_tags(remove))
    return _retag(
        ticket,
        actor,
        lambda current: normalise_tags(n for n in [*current, *added] if n not in removed),
    )


def _retag(ticket: Ticket, actor: User, compute: Callable[[list[str]], list[str]]) -> Ticket:
    access.require_can_manage(actor, ticket)
    with transaction.atomic():
        ticket = _locked_open_ticket(ticket)
        before = sorted(ticket.tags.values_list("name", flat=True))
        names = compute(before)
        if before == names:
            return ticket
        ticket.tags.set(_tags_named(names))
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
        record(
            actor=actor,
            verb="ticket.tags_changed",
            target=ticket,
            ticket=ticket,
            before={"tags": before},
            after={"tags": names},
        )
        clocks.reconsider(ticket, actor=actor, now=ticket.updated_at)
        events.emit("ticket.tags_changed", ticket_id=ticket.pk, actor_id=actor.pk)
    return ticket


def normalise_tags(tags: Iterable[str]) -> list[str]:
    names: set[str] = set()
    for raw in tags:
        name = clean_line(str(raw)).lower()
        if not name:
            continue
        if len(name) > TAG_MAX_CHARS or "," in name:
            raise ValidationFailed(
                {
                    "tags": _("A tag can have at most %(max)d characters and no commas: %(tag)s.")
                    % {"max": TAG_MAX_CHARS, "tag": name[:60]}
                }
            )
        names.add(name)
    if len(names) > MAX_TAGS:
        raise ValidationFailed(
            {"tags": _("A ticket has at most %(max)d tags.") % {"max": MAX_TAGS}}
        )
    return sorted(names)


# --- Helpers ------------------------------------------------------------------------------


def _locked_open_ticket(ticket: Ticket) -> Ticket:
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "assignee")
        .get(pk=ticket.pk)
    )
    if locked.status == Status.CLOSED:
        raise TicketClosed()
    return locked


def _tags_named(names: list[str]) -> list[Tag]:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    return list(existing.values())


def _check_assignable(assignee: User, team: Team | None) -> None:
    if access.assignable_agents(team).filter(pk=assignee.pk).exists():
        return
    if team is None or assignee.role not in (Role.AGENT, Role.ADMIN) or not assignee.is_active:
        raise ValidationFailed({"assignee": _("Only active agents can be assigned.")})
    raise ValidationFailed(
        {
            "assignee": _("%(agent)s is not a member of the team %(team)s.")
            % {"agent": assignee.display_name, "team": team.name}
        }
    )


def _check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValidationFailed(
            {
                field: _("%(value)s is not one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(allowed)}
            }
        )


def _clean_subject(subject: str) -> str:
    subject = clean_line(subject)
    if not subject:
        raise ValidationFailed({"subject": _("A ticket needs a subject.")})
    if len(subject) > SUBJECT_MAX_CHARS:
        raise ValidationFailed(
            {"subject": _("A subject is at most %(max)d characters.") % {"max": SUBJECT_MAX_CHARS}}
        )
    return subject


def _clean_bodies(
    body: str, body_html: str, attachments: Sequence[files.Upload]
) -> tuple[str, str]:
    """Return (plain text, sanitised HTML); derive the text from the HTML if needed."""
    body = clean_body(body or "")
    body_html = sanitise_html(clean_body(body_html or ""))
    if not body.strip() and body_html:
        body = html_to_text(body_html)
    if not body.strip() and not attachments:
        raise ValidationFailed({"body": _("A message needs some text or an attachment.")})
    limit = settings.MESSAGE_BODY_MAX_CHARS
    if len(body) > limit or len(body_html) > 2 * limit:
        raise ValidationFailed(
            {"body": _("A message is at most %(max)d characters.") % {"max": limit}}
        )
    return body, body_html


def _public_id(obj: User | Team | None) -> str | None:
    return obj.public_id if obj is not None else None


def _snapshot(ticket: Ticket, tag_names: list[str]) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "requester": ticket.requester.public_id,
        "team": _public_id(ticket.team),
        "assignee": _public_id(ticket.assignee),
        "tags": tag_names,
    }


# --- Saved views ------------------------------------------------------------------------


SAVED_VIEW_NAME_CHARS = 80


def save_view(*, actor: User, name: str, query: InboxQuery) -> SavedView:
    """Keep the inbox ``query`` under ``name`` for ``actor`` (replacing one of that name)."""
    access.require_staff(actor)
    name = clean_line(name)
    if not name:
        raise ValidationFailed({"name": _("Give the view a name.")})
    if len(name) > SAVED_VIEW_NAME_CHARS:
        raise ValidationFailed(
            {"name": _("A name is at most %(n)d characters.") % {"n": SAVED_VIEW_NAME_CHARS}}
        )
    stored = query.to_query()
    if len(stored) > SavedView._meta.get_field("query").max_length:  # type: ignore[operator]
        raise ValidationFailed({"query": _("This view has too many filters to be saved.")})
    with transaction.atomic():
        view, created = SavedView.objects.update_or_create(
            owner=actor, name=name, defaults={"query": stored}
        )
        record(
            actor=actor,
            verb="saved_view.created" if created else "saved_view.changed",
            target=view,
            after={"name": name, "query": view.query},
        )
    return view


def delete_view(*, actor: User, view: SavedView) -> None:
    if view.owner_id != actor.pk:
        raise NotAllowed(_("You can only remove your own views."))
    with transaction.atomic():
        record(actor=actor, verb="saved_view.deleted", target=view, before={"name": view.name})
        view.delete()
