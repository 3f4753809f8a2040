"""Browser views. The agent workspace and the customer portal grow here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from quietdesk import access
from quietdesk.accounts.models import User
from quietdesk.api.tickets import attachment_response
from quietdesk.errors import NotFound
from quietdesk.sla import services as sla
from quietdesk.sla.promise import Promise, promise_for
from quietdesk.tickets.models import Ticket
from quietdesk.tickets.queries import with_ticket_relations


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    rows: list[tuple[Ticket, Promise | None]] = []
    if request.user.is_authenticated and isinstance(request.user, User):
        reader = request.user
        tickets = list(with_ticket_relations(access.visible_tickets(reader))[:20])
        language = get_language() or reader.language
        rows = [
            (
                ticket,
                promise_for(
                    sla.expected_response(ticket.clock_list),  # type: ignore[attr-defined]
                    zone=reader.time_zone,
                    language=language,
                ),
            )
            for ticket in tickets
        ]
    return render(request, "web/home.html", {"rows": rows})


@require_GET
@login_required
def download_attachment(request: HttpRequest, attachment_id: str) -> FileResponse:
    assert isinstance(request.user, User)  # noqa: S101 - login_required
    try:
        attachment = access.get_attachment(request.user, attachment_id)
    except NotFound:
        raise Http404 from None
    return attachment_response(attachment)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and `make run`: the app answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
