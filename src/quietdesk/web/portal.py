"""The customer portal: sign-in by one-time link, my requests, one request's thread.

A customer sees only what ``access`` lets them see (their own tickets, and their
organisation's when it shares them), public messages only, and writes through the same
services as every other channel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.core.mail import EmailMessage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quietdesk import access
from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import User
from quietdesk.errors import DomainError
from quietdesk.intake import services as intake
from quietdesk.mail.outbound import connection
from quietdesk.ratings import services as ratings
from quietdesk.ratings.models import Score
from quietdesk.sla import services as sla
from quietdesk.sla.promise import promise_for
from quietdesk.tickets import services as tickets
from quietdesk.tickets.models import Channel, Ticket
from quietdesk.tickets.queries import timeline, with_ticket_relations
from quietdesk.tickets.states import Status
from quietdesk.web.guards import customer_only, signed_in_user
from quietdesk.web.views import browser_language
from quietdesk.web.workspace import load_ticket, report, submission_and_rating

logger = logging.getLogger(__name__)

type View = Callable[..., HttpResponse]


customer = signed_in_user


def _promise(ticket: Ticket, reader: User) -> Any:
    return promise_for(
        sla.expected_response(ticket.clock_list),  # type: ignore[attr-defined]
        zone=reader.time_zone,
        language=get_language() or reader.language,
    )


# --- Sign-in ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a link by email. The answer is the same for known and unknown addresses."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        made = accounts.create_sign_in_link(email=email, next_url=next_url)
        if made is not None:
            person, raw = made
            url = request.build_absolute_uri(reverse("portal-sign-in-link", args=[raw]))
            # Off this request (the link's row is committed already): the answer takes
            # as long whether or not the address is a customer's.
            deliver_soon(_send_link, person, url)
        return render(request, "web/portal/link_sent.html", {"email": email})
    return render(request, "web/portal/sign_in.html", {"next": next_url})


def deliver_soon(send: Callable[..., None], *args: Any) -> None:
    """Run ``send`` in a thread of its own (tests replace this to run it at once).

    The link is not queued in the database: its secret must never be written down.
    """
    threading.Thread(target=send, args=args, daemon=True, name="sign-in-link").start()


def _send_link(person: User, url: str) -> None:
    with override(person.language):
        subject = _("Your sign-in link for Quietdesk")
        body = _(
            "Hello %(name)s,\n\nOpen this link to see your requests (it works once, "
            "for %(minutes)d minutes):\n\n%(url)s\n\nIf you did not ask for it, ignore "
            "this email: nobody can sign in without it."
        ) % {
            "name": person.name or person.email,
            "minutes": accounts.SIGN_IN_LINK_MINUTES,
            "url": url,
        }
    mail = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[person.email],
        headers={"Auto-Submitted": "auto-generated", "Content-Language": person.language},
    )
    try:
        connection().send_messages([mail])
    except Exception:  # a thread of its own (which never touches the database): log
        logger.exception("The sign-in link for %s could not be sent", person.public_id)


@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only POST spends the link (mail scanners open links too)."""
    if request.method == "GET":
        link = accounts.sign_in_link_person(token)
        return render(
            request,
            "web/portal/confirm_link.html",
            {"link": link, "person": link.person if link else None},
            status=200 if link else 410,
        )
    link = accounts.use_sign_in_link(token)
    if link is None:
        return render(request, "web/portal/confirm_link.html", {"link": None}, status=410)
    if language := browser_language(request):
        accounts.take_browser_language(person=link.person, language=language)  # before login
    login(request, link.person, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(link.next_url or "portal")


# --- Requests --------------------------------------------------------------------------


@require_GET
@customer_only
def portal_home(request: HttpRequest) -> HttpResponse:
    reader = customer(request)
    rows = list(
        with_ticket_relations(access.visible_tickets(reader)).order_by("-last_message_at")[:100]
    )
    return render(
        request,
        "web/portal/home.html",
        {"rows": [(ticket, _promise(ticket, reader)) for ticket in rows]},
    )


@require_http_methods(["GET", "POST"])
@customer_only
def portal_new(request: HttpRequest) -> HttpResponse:
    reader = customer(request)
    if request.method == "POST":
        try:
            ticket = tickets.create_ticket(
                actor=reader,
                subject=request.POST.get("subject", ""),
                body=request.POST.get("body", ""),
                channel=Channel.PORTAL,
                attachments=request.FILES.getlist("files"),
            )
        except DomainError as error:
            report(request, error)
            return render(
                request,
                "web/portal/new.html",
                {
                    "subject": request.POST.get("subject", ""),
                    "body": request.POST.get("body", ""),
                    "forms": _forms(reader),
                },
                status=400,
            )
        messages.success(request, _("Thank you. Your request is #%(n)s.") % {"n": ticket.number})
        return redirect("portal-ticket", ticket_id=ticket.public_id)
    return render(request, "web/portal/new.html", {"forms": _forms(reader)})


def _forms(reader: User) -> list[tuple[str, str]]:
    """The published forms as (address, title in the reader's language)."""
    language = get_language() or reader.language
    return [(f.slug, intake.title(f, language)) for f in intake.published_forms(reader)]


@require_GET
@customer_only
def portal_ticket(request: HttpRequest, ticket_id: str) -> HttpResponse:
    reader = customer(request)
    ticket = load_ticket(reader, ticket_id)
    mine = ticket.requester_id == reader.pk
    submission, rating = submission_and_rating(ticket)
    return render(
        request,
        "web/portal/ticket.html",
        {
            "ticket": ticket,
            "entries": timeline(reader, ticket)[0],
            "promise": _promise(ticket, reader),
            "can_solve": mine and ticket.status not in ratings.RATEABLE,
            "rating_token": ratings.link_token(ticket)
            if mine and ticket.status in ratings.RATEABLE
            else "",
            "scores": list(reversed(Score)),
            "submission": submission,
            "rating": rating,
        },
    )


@require_POST
@customer_only
def portal_reply(request: HttpRequest, ticket_id: str) -> HttpResponse:
    reader = customer(request)
    ticket = load_ticket(reader, ticket_id)
    try:
        message = tickets.post_message(
            ticket=ticket,
            author=reader,
            body=request.POST.get("body", ""),
            attachments=request.FILES.getlist("files"),
            via=Channel.PORTAL,
        )
    except DomainError as error:
        report(request, error)
        return redirect("portal-ticket", ticket_id=ticket.public_id)
    if message.ticket_id != ticket.pk:
        messages.success(request, _("This request was closed, so your message opened a new one."))
    else:
        messages.success(request, _("Your message was added."))
    return redirect("portal-ticket", ticket_id=message.ticket.public_id)


@require_POST
@customer_only
def portal_solve(request: HttpRequest, ticket_id: str) -> HttpResponse:
    reader = customer(request)
    ticket = load_ticket(reader, ticket_id)
    try:
        tickets.change_status(ticket=ticket, actor=reader, status=Status.SOLVED)
    except DomainError as error:
        report(request, error)
    else:
        messages.success(request, _("Marked as solved. Write again if you need anything else."))
    return redirect("portal-ticket", ticket_id=ticket.public_id)


@require_http_methods(["GET", "POST"])
@customer_only
def portal_password(request: HttpRequest) -> HttpResponse:
    """Optional: a password, for customers who prefer it to links."""
    reader = customer(request)
    form = SetPasswordForm(reader, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, reader, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your password is set. You can also keep using links."))
        return redirect("portal")
    return render(request, "web/portal/password.html", {"form": form})
