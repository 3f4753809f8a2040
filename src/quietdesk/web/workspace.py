"""The agent workspace: inbox views, bulk actions, saved views and the ticket page.

Thin adapters over the services: each view reads the request, calls one service per
intent, and turns domain errors into messages next to what they concern. Scoping is the
services' and ``access``'s business; a view never filters tickets by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

from babel import Locale
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.errors import DomainError, NotFound, ValidationFailed
from quietdesk.intake.models import Submission
from quietdesk.ratings.models import Rating
from quietdesk.replies import services as replies
from quietdesk.sla import services as sla
from quietdesk.tickets import inbox
from quietdesk.tickets import services as tickets
from quietdesk.tickets.models import Channel, MessageKind, Priority, SavedView, Tag, Ticket
from quietdesk.tickets.queries import (
    names_by_public_id,
    requester_history,
    timeline,
    with_ticket_relations,
)
from quietdesk.tickets.states import Status, allowed_next
from quietdesk.web.guards import signed_in_user, staff_only

type View = Callable[..., HttpResponse]

PAGE_SIZE = 50
#: Threads longer than this open folded, showing the first and the latest entries.
FOLD_AFTER = 80
SHOWN_WHEN_FOLDED = 40


me = signed_in_user


def report(request: HttpRequest, error: DomainError) -> None:
    """A domain error as messages: one per field for validation errors."""
    if isinstance(error, ValidationFailed) and error.fields:
        for message in error.fields.values():
            messages.error(request, str(message))
    else:
        messages.error(request, str(error))


# --- Inbox -----------------------------------------------------------------------------------


@require_GET
@staff_only
def inbox_page(request: HttpRequest) -> HttpResponse:
    reader = me(request)
    try:
        query = inbox.InboxQuery.from_params(request.GET)
        rows = query.tickets(reader)
        total = inbox.capped_count(rows)
    except (ValidationFailed, NotFound) as error:
        report(request, error)
        query = inbox.InboxQuery()
        rows = query.tickets(reader)
        total = inbox.capped_count(rows)
    page = _page_number(request)
    start = (page - 1) * PAGE_SIZE
    ids = query.page_ids(reader, offset=start, limit=PAGE_SIZE + 1)
    loaded = with_ticket_relations(Ticket.objects.filter(pk__in=ids)).in_bulk()
    shown = [loaded[pk] for pk in ids if pk in loaded]
    has_next = len(shown) > PAGE_SIZE
    shown = shown[:PAGE_SIZE]
    counts = inbox.view_counts(reader)
    base = query.to_params()
    return render(
        request,
        "web/inbox.html",
        {
            "query": query,
            "tickets": shown,
            "total": total,
            "capped": total > inbox.COUNT_CAP,
            "cap": inbox.COUNT_CAP,
            "page": page,
            "previous_url": _inbox_url(base, page - 1) if page > 1 else None,
            "next_url": _inbox_url(base, page + 1) if has_next else None,
            "views": [
                (view, counts[view.slug], _inbox_url([("view", view.slug)], 1))
                for view in inbox.VIEWS
            ],
            "saved_views": list(SavedView.objects.filter(owner=reader)),
            "sorts": list(inbox.SORTS.items()),
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "channels": Channel.choices,
            "teams": list(access.visible_teams(reader).order_by("name")),
            "agents": list(access.assignable_agents(None).order_by("name")),
            "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)[:200]),
            "query_string": query.to_query(),
            "bulk_statuses": [s for s in Status.choices if s[0] != Status.NEW],
        },
    )


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


def _inbox_url(params: list[tuple[str, str]], page: int) -> str:
    query = [*params, ("page", str(page))] if page > 1 else params
    return f"{reverse('inbox')}?{urlencode(query)}"


def _back_to_inbox(request: HttpRequest) -> HttpResponseRedirect:
    """Where the form came from, if it is an inbox page of this site."""
    query = request.POST.get("return_query", "")
    url = reverse("inbox")
    return redirect(f"{url}?{query}" if query and "\n" not in query else url)


@require_POST
@staff_only
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the ticked tickets; each goes through its own service call."""
    reader = me(request)
    ids = request.POST.getlist("ticket")[:200]
    action = request.POST.get("action", "")
    if not ids:
        messages.error(request, _("Tick at least one ticket first."))
        return _back_to_inbox(request)
    chosen = list(access.visible_tickets(reader).filter(public_id__in=ids))
    done, failed = 0, []
    for ticket in chosen:
        try:
            _bulk_one(reader, ticket, action, request.POST)
            done += 1
        except DomainError as error:
            failed.append(f"#{ticket.number}: {error}")
    if done:
        messages.success(
            request,
            ngettext("%(n)d ticket updated.", "%(n)d tickets updated.", done) % {"n": done},
        )
    for line in failed[:10]:
        messages.error(request, line)
    return _back_to_inbox(request)


def _bulk_one(reader: User, ticket: Ticket, action: str, data: Any) -> None:
    if action == "assign_me":
        tickets.assign(ticket=ticket, actor=reader, assignee=reader)
    elif action == "assign":
        agent_id = data.get("assignee", "")
        assignee = None if agent_id == "none" else _agent(agent_id)
        tickets.assign(ticket=ticket, actor=reader, assignee=assignee)
    elif action == "status":
        tickets.change_status(ticket=ticket, actor=reader, status=data.get("status", ""))
    elif action == "add_tag":
        tickets.change_tags(ticket=ticket, actor=reader, add=[data.get("tag", "")])
    elif action == "remove_tag":
        tickets.change_tags(ticket=ticket, actor=reader, remove=[data.get("tag", "")])
    else:
        raise ValidationFailed({"action": _("Choose an action.")})


def _agent(public_id: str) -> User:
    agent = access.staff_by_public_ids([public_id]).first()
    if agent is None:
        raise ValidationFailed({"assignee": _("Choose an agent.")})
    return agent


@require_POST
@staff_only
def saved_view_create(request: HttpRequest) -> HttpResponse:
    reader = me(request)
    query_string = request.POST.get("return_query", "")
    try:
        query = inbox.InboxQuery.from_params(_parse_query(query_string))
        view = tickets.save_view(actor=reader, name=request.POST.get("name", ""), query=query)
    except ValidationFailed as error:
        report(request, error)
        return _back_to_inbox(request)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('inbox')}?{view.query}")


@require_POST
@staff_only
def saved_view_delete(request: HttpRequest, view_id: str) -> HttpResponse:
    reader = me(request)
    view = SavedView.objects.filter(owner=reader, public_id=view_id).first()
    if view is None:
        raise Http404
    tickets.delete_view(actor=reader, view=view)
    messages.success(request, _("View “%(name)s” removed.") % {"name": view.name})
    return redirect("inbox")


def _parse_query(query_string: str) -> dict[str, list[str]]:
    return parse_qs(query_string[:2000])


# --- Ticket page -------------------------------------------------------------------------


@require_GET
@staff_only
def ticket_page(request: HttpRequest, ticket_id: str) -> HttpResponse:
    reader = me(request)
    ticket = load_ticket(reader, ticket_id)
    # A long thread opens on its first message and the latest ones; the rest is one
    # click away (?whole=1), as in a mail client.
    entries, folded = timeline(
        reader,
        ticket,
        fold_after=None if request.GET.get("whole") else FOLD_AFTER,
        keep=SHOWN_WHEN_FOLDED,
    )
    submission, rating = submission_and_rating(ticket)
    referred: set[str] = set()
    for entry in entries:
        if entry.event is not None and entry.event.verb == "ticket.assigned":
            referred |= {
                v for v in (*entry.event.before.values(), *entry.event.after.values()) if v
            }
    return render(
        request,
        "web/ticket.html",
        {
            "ticket": ticket,
            "entries": entries,
            "folded": folded,
            "names": names_by_public_id(referred) if referred else {},
            "history": requester_history(reader, ticket),
            "clocks": sla.current_clocks(ticket.clock_list),  # type: ignore[attr-defined]
            "next_statuses": [(s.value, s.label) for s in allowed_next(ticket.status)],
            "priorities": Priority.choices,
            "teams": list(access.visible_teams(reader).order_by("name")),
            "agents": _agents_for(ticket),
            "tag_text": ", ".join(t.name for t in ticket.tag_list),  # type: ignore[attr-defined]
            "kinds": [(kind.value, kind.label) for kind in (MessageKind.REPLY, MessageKind.NOTE)],
            "draft": request.session.pop(f"draft-{ticket.public_id}", ""),
            "canned": list(replies.visible_replies(reader)),
            "submission": submission,
            "rating": rating,
        },
    )


def _agents_for(ticket: Ticket) -> list[User]:
    """Who the ticket can go to, and its current assignee even if no longer among them
    (saving the form must not unassign a ticket by accident)."""
    agents = list(access.assignable_agents(ticket.team).order_by("name"))
    if ticket.assignee is not None and ticket.assignee not in agents:
        agents.insert(0, ticket.assignee)
    return agents


def load_ticket(reader: User, ticket_id: str) -> Ticket:
    """The ticket with what its page shows, if ``reader`` may see it; 404 otherwise."""
    try:
        ticket = access.get_ticket(reader, ticket_id)
    except NotFound:
        raise Http404 from None
    return (
        with_ticket_relations(Ticket.objects.filter(pk=ticket.pk))
        .select_related("submission__form", "rating")
        .get()
    )


def submission_and_rating(ticket: Ticket) -> tuple[Submission | None, Rating | None]:
    """What a form and a rating added to a ticket loaded by :func:`load_ticket`."""
    return getattr(ticket, "submission", None), getattr(ticket, "rating", None)


@require_POST
@staff_only
def ticket_reply(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """The composer: a public reply or an internal note, with files."""
    reader = me(request)
    ticket = load_ticket(reader, ticket_id)
    kind = request.POST.get("kind", MessageKind.REPLY)
    body = request.POST.get("body", "")
    try:
        # One transaction: if the status change is refused, the reply is not sent either
        # (mail goes out only on commit), so sending again never sends twice.
        with transaction.atomic():
            message = tickets.post_message(
                ticket=ticket,
                author=reader,
                body=body,
                kind=kind if kind in (MessageKind.REPLY, MessageKind.NOTE) else MessageKind.REPLY,
                attachments=request.FILES.getlist("files"),
                via=Channel.WEB,
            )
            status = request.POST.get("then_status", "")
            if status and status != message.ticket.status:
                tickets.change_status(ticket=message.ticket, actor=reader, status=status)
    except DomainError as error:
        report(request, error)
        request.session[f"draft-{ticket.public_id}"] = body[:100_000]
        return redirect("ticket", ticket_id=ticket.public_id)
    if kind == MessageKind.NOTE:
        messages.success(request, _("Note added."))
    else:
        messages.success(request, _("Reply sent."))
    return redirect("ticket", ticket_id=message.ticket.public_id)


@require_POST
@staff_only
def ticket_update(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """The sidebar's properties form: status, team and assignee, priority, tags."""
    reader = me(request)
    ticket = load_ticket(reader, ticket_id)
    data = request.POST
    try:
        status = data.get("status", ticket.status)
        if status != ticket.status:
            ticket = tickets.change_status(ticket=ticket, actor=reader, status=status)
        team = _team(reader, data.get("team", ""))
        agent_id = data.get("assignee", "")
        if ticket.assignee is not None and agent_id == ticket.assignee.public_id:
            assignee: User | None = ticket.assignee  # unchanged, even if no longer assignable
        else:
            assignee = None if agent_id in ("", "none") else _agent(agent_id)
        if (team.pk if team else None, assignee.pk if assignee else None) != (
            ticket.team_id,
            ticket.assignee_id,
        ):
            ticket = tickets.assign(ticket=ticket, actor=reader, team=team, assignee=assignee)
        priority = data.get("priority", ticket.priority)
        if priority != ticket.priority:
            ticket = tickets.set_priority(ticket=ticket, actor=reader, priority=priority)
        if "tags" in data:
            wanted = tickets.normalise_tags(data.get("tags", "").split(","))
            current = sorted(t.name for t in ticket.tags.all())
            if sorted(wanted) != current:
                tickets.set_tags(ticket=ticket, actor=reader, tags=wanted)
    except DomainError as error:
        report(request, error)
    else:
        messages.success(request, _("Ticket updated."))
    return redirect("ticket", ticket_id=ticket.public_id)


def _team(reader: User, public_id: str) -> Team | None:
    if public_id in ("", "none"):
        return None
    try:
        return access.get_team(reader, public_id)
    except NotFound:
        raise ValidationFailed({"team": _("Choose a team.")}) from None


@require_POST
@staff_only
def ticket_canned(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """Insert a canned reply into the composer, filled in, in the customer's language.

    With htmx, answers the new text area (and a note on the language used); without,
    keeps the draft for the ticket page and goes back to it.
    """
    reader = me(request)
    ticket = load_ticket(reader, ticket_id)
    body = request.POST.get("body", "")
    reply = replies.visible_replies(reader).filter(public_id=request.POST.get("canned", "")).first()
    note = ""
    if reply is None:
        note = _("Choose a canned reply first.")
    else:
        filled = replies.fill(reply, ticket=ticket, agent=reader)
        body = f"{body.rstrip()}\n\n{filled.text}" if body.strip() else filled.text
        # The language's name as the reader's language writes it mid-sentence ("français").
        language = Locale.parse(get_language() or settings.LANGUAGE_CODE).languages.get(
            filled.language, filled.language
        )
        if filled.language == ticket.requester.language:
            note = _("Inserted in %(language)s, the customer's language.") % {"language": language}
        else:
            note = _(
                "Inserted in %(language)s: this reply has no text in the customer's language."
            ) % {"language": language}
    if request.headers.get("HX-Request"):
        return render(request, "web/_composer_body.html", {"draft": body, "note": note})
    request.session[f"draft-{ticket.public_id}"] = body[:100_000]
    messages.info(request, note)
    return redirect("ticket", ticket_id=ticket.public_id)
