"""Public pages: intake forms (signed in or not) and one-click satisfaction ratings.

Neither asks for a password. A form filled in by a visitor who is not signed in opens
the ticket for the address they give (as a mail from it would); the portal shows it
only after a sign-in link sent to that address. A rating link is signed for one
ticket and its requester; GET only shows the choice, POST stores it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from quietdesk.accounts.models import User
from quietdesk.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from quietdesk.intake import services as intake
from quietdesk.intake.models import IntakeForm
from quietdesk.ratings import services as ratings
from quietdesk.ratings.models import Score
from quietdesk.sla import services as sla
from quietdesk.sla.promise import promise_for
from quietdesk.tickets.models import Ticket
from quietdesk.web import auth

#: Forms a visitor who is not signed in may send from one client per hour.
VISITOR_SUBMISSIONS_PER_HOUR = 10


def _reader(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def _form(reader: User | None, slug: str) -> IntakeForm:
    try:
        return intake.form_for(reader, slug)
    except NotFound:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a form (prefilled from the link's query: ``?product=pro&email=…``) and send it."""
    reader = _reader(request)
    form = _form(reader, slug)
    if reader is None and not form.allows_anonymous:
        return redirect_to_login(request.get_full_path(), reverse("portal-sign-in"))
    language = get_language() or "en"
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {f.key: request.POST.get(f"answer-{f.key}", "") for f in form.fields.all()}
        contact = {k: request.POST.get(k, "").strip()[:254] for k in ("email", "name")}
        client = f"form-submissions:client:{auth.client_address(request)}"
        # Every visitor's try counts, refused ones too, and before anything is done.
        if reader is None and auth.count(client, 3600) > VISITOR_SUBMISSIONS_PER_HOUR:
            messages.error(request, _("Too many forms sent from here. Try again in an hour."))
            return _render_form(request, form, language, values, contact, errors, status=429)
        if request.POST.get("website"):  # a field people never see: only robots fill it in
            return redirect("intake-form-sent", slug=form.slug)
        try:
            ticket = intake.submit(
                form,
                reader=reader,
                visitor=intake.Visitor(email=contact["email"], name=contact["name"]),
                answers=values,
                uploads=_uploads(form, request),
                language=language,
            )
        except ValidationFailed as refused:
            errors = {name: str(message) for name, message in refused.fields.items()}
            for name, message in errors.items():
                if name != "email" and not name.startswith("answer-"):
                    messages.error(request, message)  # about the form as a whole
            messages.error(request, _("Some answers need another look."))
            return _render_form(request, form, language, values, contact, errors, status=422)
        except DomainError as error:
            messages.error(request, str(error))
            return _render_form(request, form, language, values, contact, errors, status=400)
        if reader is None:
            request.session["intake-sent"] = {
                "form": form.slug,
                "ticket": ticket.public_id if ticket else "",
            }
            return redirect("intake-form-sent", slug=form.slug)
        assert ticket is not None  # noqa: S101 - only a visitor's submission can open none
        messages.success(request, _("Thank you. Your request is #%(n)s.") % {"n": ticket.number})
        return redirect("portal-ticket", ticket_id=ticket.public_id)
    contact = {
        "email": request.GET.get("email", "")[:254],
        "name": request.GET.get("name", "")[:200],
    }
    return _render_form(request, form, language, request.GET, contact, errors)


def _uploads(form: IntakeForm, request: HttpRequest) -> dict[str, UploadedFile[Any]]:
    uploads = {}
    for f in form.fields.all():
        upload = request.FILES.get(f"answer-{f.key}")
        if isinstance(upload, UploadedFile):
            uploads[f.key] = upload
    return uploads


def _render_form(
    request: HttpRequest,
    form: IntakeForm,
    language: str,
    values: Any,
    contact: dict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> HttpResponse:
    fields = [
        (shown, errors.get(f"answer-{shown.key}", ""))
        for shown in intake.shown_fields(form, language, values)
    ]
    return render(
        request,
        "web/intake/form.html",
        {
            "form": form,
            "title": intake.title(form, language),
            "intro": intake.intro(form, language),
            "fields": fields,
            "contact": contact,
            "errors": errors,
            "visitor": _reader(request) is None,
            "has_files": any(shown.kind == "file" for shown, _error in fields),
        },
        status=status,
    )


@require_GET
def form_sent(request: HttpRequest, slug: str) -> HttpResponse:
    """Thanks, the request's number and when to expect an answer (nothing more to a visitor)."""
    form = _form(_reader(request), slug)
    sent = request.session.pop("intake-sent", None) or {}
    # Only the ticket this browser just sent here, read once: its number and promise.
    ticket = intake.sent_ticket(sent.get("ticket", "")) if sent.get("form") == slug else None
    promise = None
    if ticket is not None:
        promise = promise_for(
            sla.expected_response(list(ticket.sla_clocks.all())),
            zone=ticket.requester.time_zone,
            language=get_language() or ticket.requester.language,
        )
    return render(
        request,
        "web/intake/sent.html",
        {
            "title": intake.title(form, get_language() or "en"),
            "number": ticket.number if ticket else None,
            "promise": promise,
        },
    )


# --- Ratings -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def rate_page(request: HttpRequest, token: str) -> HttpResponse:
    """The rating link's page, in the requester's language: confirm (GET) and store (POST)."""
    ticket = ratings.ticket_for_token(token)
    if ticket is None:
        return render(request, "web/intake/rate.html", {"gone": True}, status=410)
    reader = _reader(request)
    with override(reader.language if reader is not None else ticket.requester.language):
        return _rate(request, token, ticket, reader)


def _rate(request: HttpRequest, token: str, ticket: Ticket, reader: User | None) -> HttpResponse:
    existing = getattr(ticket, "rating", None)
    context: dict[str, Any] = {"ticket": ticket, "scores": list(reversed(Score)), "errors": {}}
    if request.method == "POST":
        try:
            ratings.rate(
                token=token,
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
        except ValidationFailed as refused:
            context["errors"] = {k: str(v) for k, v in refused.fields.items()}
            context["chosen"] = ratings.parse_score(request.POST.get("score"))
            context["comment"] = request.POST.get("comment", "")
            return render(request, "web/intake/rate.html", context, status=422)
        except NotAllowed as refused:
            context["refused"] = str(refused)
            return render(request, "web/intake/rate.html", context, status=409)
        if reader is not None and reader.pk == ticket.requester_id and request.POST.get("back"):
            messages.success(request, _("Thank you for your rating"))
            return redirect("portal-ticket", ticket_id=ticket.public_id)
        return redirect(f"{reverse('rate', args=[token])}?thanks=1")
    if request.GET.get("thanks") and existing is not None:
        context.update(done=True, rating=existing)
        return render(request, "web/intake/rate.html", context)
    context["chosen"] = ratings.parse_score(request.GET.get("score")) or (
        existing.score if existing else None
    )
    context["comment"] = existing.comment if existing else ""
    context["already"] = existing
    return render(request, "web/intake/rate.html", context)
