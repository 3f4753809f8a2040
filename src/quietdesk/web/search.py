"""Search pages: the workspace's (every ticket the agent may see), the portal's (the
customer's own requests, and help-centre articles), and each customer's whole history.

Thin adapters over :func:`quietdesk.search.queries.search`, which scopes every result
through the one permission layer. As-you-type: the search box asks again (htmx, debounced)
and only the results block is swapped; without a script, it is a plain GET form.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, Max, Min, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from quietdesk import access
from quietdesk.accounts.models import User
from quietdesk.errors import NotFound, ValidationFailed
from quietdesk.kb import services as kb
from quietdesk.search.queries import SearchPage, search
from quietdesk.search.similar import similar_tickets
from quietdesk.tickets.models import Ticket
from quietdesk.web.guards import customer_only, signed_in_user, staff_only
from quietdesk.web.workspace import load_ticket

#: Results per page.
PAGE = 25
#: A customer's page lists this many of their tickets (then "search to find older ones").
HISTORY = 50


@dataclass(frozen=True)
class Outcome:
    """What the results block shows: nothing yet, a problem in words, or a page."""

    query: str
    order: str
    page: SearchPage | None = None
    error: str = ""
    position: int = 0


def _run(reader: User, request: HttpRequest, *, requester: User | None = None) -> Outcome:
    query = request.GET.get("q", "")
    order = "relevance" if request.GET.get("order") == "relevance" else "newest"
    if not query.strip():
        return Outcome(query, order)
    try:
        page = search(
            reader,
            query,
            order=order,  # type: ignore[arg-type]  # checked above
            limit=PAGE,
            cursor=request.GET.get("cursor") or None,
            requester=requester,
        )
    except ValidationFailed as refused:  # the query (QueryError) or a forged cursor
        message = str(next(iter(refused.fields.values()), refused))
        return Outcome(query, order, error=message, position=getattr(refused, "position", 0))
    return Outcome(query, order, page=page)


def _respond(
    request: HttpRequest, template: str, outcome: Outcome, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only its results block for the search box's own requests.

    A query that cannot be understood is a 400 with the problem in words; the box's own
    (htmx) request gets the block with the same words and a 200, so that it is shown."""
    context = {**context, "outcome": outcome}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "search-results":
        return render(request, "web/search/_results.html", context)
    return render(request, template, context, status=400 if outcome.error else 200)


@require_GET
@staff_only
def search_page(request: HttpRequest) -> HttpResponse:
    reader = signed_in_user(request)
    return _respond(request, "web/search/search.html", _run(reader, request), {"portal": False})


@require_GET
@customer_only
def portal_search(request: HttpRequest) -> HttpResponse:
    """The customer's own requests (and their organisation's shared ones), and articles."""
    reader = signed_in_user(request)
    outcome = _run(reader, request)
    language = get_language() or reader.language
    articles = kb.find_articles(reader, outcome.query[:500], language, 5) if outcome.query else []
    articles_shown = [(article, kb.shown(article, language)) for article in articles]
    return _respond(
        request,
        "web/search/portal.html",
        outcome,
        {"portal": True, "articles": articles_shown},
    )


@require_GET
@staff_only
def customer_page(request: HttpRequest, person_id: str) -> HttpResponse:
    """Everything with one customer: their tickets across channels and years, newest first,
    how many per year, their organisation's, and a search within their conversations."""
    reader = signed_in_user(request)
    try:
        contact = access.get_contact(reader, person_id)
    except NotFound:
        raise Http404 from None
    theirs = access.visible_tickets(reader).filter(requester=contact)
    per_year = _per_year(theirs, zoneinfo.ZoneInfo(reader.time_zone))
    tickets = list(theirs.select_related("team", "assignee").order_by("-id")[: HISTORY + 1])
    organisation_tickets: list[Ticket] = []
    if contact.organisation_id is not None:
        organisation_tickets = list(
            access.visible_tickets(reader)
            .filter(organisation_id=contact.organisation_id)
            .exclude(requester=contact)
            # Sorted after reading the organisation's tickets (its index) rather than by
            # walking every ticket newest first: PostgreSQL takes the walk, not knowing
            # that a busy contact's organisation has few tickets from anyone else. The
            # requesters are read apart, or it would hash every person to join them.
            .prefetch_related("requester")
            .alias(newest=F("id") + 0)
            .order_by("-newest")[:20]
        )
    outcome = _run(reader, request, requester=contact)
    return _respond(
        request,
        "web/search/customer.html",
        outcome,
        {
            "portal": False,
            "contact": contact,
            "per_year": per_year,
            "total": sum(row["count"] for row in per_year),
            "tickets": tickets[:HISTORY],
            "more": len(tickets) > HISTORY,
            "organisation_tickets": organisation_tickets,
        },
    )


def _per_year(tickets: QuerySet[Ticket], zone: zoneinfo.ZoneInfo) -> list[dict[str, int]]:
    """How many of ``tickets`` were opened each year (in ``zone``), newest year first,
    years without any left out.

    Each ticket is compared with the instants the years start rather than having its
    year extracted: SQLite extracts a year in a time zone by calling Python once per row
    (100 ms for a customer with 6,000 tickets). The recent years are counted in one pass;
    a history reaching further back (or a clock ahead) costs a second one."""
    tickets = tickets.order_by()
    this_year = timezone.now().astimezone(zone).year
    counts = _count_by_year(tickets, zone, range(this_year - RECENT_YEARS + 1, this_year + 1))
    if OTHER_YEARS in counts:
        span = tickets.aggregate(first=Min("created_at"), last=Max("created_at"))
        first, last = span["first"].astimezone(zone).year, span["last"].astimezone(zone).year
        counts = _count_by_year(tickets, zone, range(first, last + 1))
    return [{"year": year, "count": count} for year, count in sorted(counts.items(), reverse=True)]


#: The customer page counts this many years (to this one) in one pass.
RECENT_YEARS = 12
OTHER_YEARS = 0


def _count_by_year(
    tickets: QuerySet[Ticket], zone: zoneinfo.ZoneInfo, years: range
) -> dict[int, int]:
    """Tickets per year of ``years``; those opened in any other year under OTHER_YEARS."""
    starts = {year: dt.datetime(year, 1, 1, tzinfo=zone) for year in [*years, years.stop]}
    year = Case(
        When(created_at__gte=starts[years.stop], then=Value(OTHER_YEARS)),
        # Newest first: most tickets stop at the first comparisons.
        *[When(created_at__gte=starts[y], then=Value(y)) for y in reversed(years)],
        default=Value(OTHER_YEARS),
    )
    rows = tickets.annotate(year=year).values("year").annotate(count=Count("pk")).order_by()
    return {int(row["year"]): int(row["count"]) for row in rows}


@require_GET
@staff_only
def similar_panel(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """The ticket page's "Similar tickets" box, asked for once the page has loaded (the
    search must not slow the page itself down)."""
    reader = signed_in_user(request)
    ticket = load_ticket(reader, ticket_id)
    return render(request, "web/search/_similar.html", {"similar": similar_tickets(reader, ticket)})
