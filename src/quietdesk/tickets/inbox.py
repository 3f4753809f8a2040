"""The agent's inbox: named views over the tickets an agent may see, and their order.

Every view starts from :func:`quietdesk.access.visible_tickets`, so an inbox can never
show a ticket its reader could not open. Views are sorted by due time by default: the
earliest SLA deadline first (``Ticket.due_at``, kept by ``sla.clocks``), then tickets
without a running deadline, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.errors import ValidationFailed
from quietdesk.tickets.models import Channel, Priority, Ticket
from quietdesk.tickets.queries import TicketFilters, filter_tickets
from quietdesk.tickets.states import Status

#: How close to its due time a ticket counts as "breaching soon".
BREACHING_WINDOW = dt.timedelta(hours=2)
#: Counts stop here: "1,000+" is as useful as an exact figure and costs far less.
COUNT_CAP = 1000
#: The statuses someone in the team still has to act on (pending waits on the customer).
WORKING = (Status.NEW, Status.OPEN, Status.ON_HOLD)
UNFINISHED = (*WORKING, Status.PENDING)


@dataclass(frozen=True)
class InboxView:
    slug: str
    label: Promise
    description: Promise


VIEWS: tuple[InboxView, ...] = (
    InboxView("mine", _("Mine"), _("Assigned to me and not yet solved")),
    InboxView("unassigned", _("Unassigned"), _("Nobody has taken these yet")),
    InboxView("teams", _("My teams"), _("Unsolved tickets of the teams I belong to")),
    InboxView("waiting", _("Waiting on customer"), _("Answered; the customer has the next word")),
    InboxView("breaching", _("Breaching soon"), _("Due within two hours, or already late")),
    InboxView("all", _("All"), _("Every ticket I may see, solved and closed included")),
)
VIEW_SLUGS = tuple(view.slug for view in VIEWS)
DEFAULT_VIEW = "mine"

SORTS: dict[str, Promise] = {
    "due": _("Due time"),
    "updated": _("Last activity"),
    "created": _("Newest"),
    "oldest": _("Oldest"),
}
DEFAULT_SORT = "due"


def view_tickets(actor: User, view: str, *, now: dt.datetime | None = None) -> QuerySet[Ticket]:
    """The tickets of one named view, unsorted."""
    tickets = access.visible_tickets(actor)
    if view == "mine":
        return tickets.filter(assignee=actor, status__in=UNFINISHED)
    if view == "unassigned":
        return tickets.filter(assignee__isnull=True, status__in=WORKING)
    if view == "teams":
        teams = Team.members.through.objects.filter(user_id=actor.pk).values("team_id")
        return tickets.filter(team_id__in=teams, status__in=UNFINISHED)
    if view == "waiting":
        return tickets.filter(status=Status.PENDING)
    if view == "breaching":
        soon = (now or timezone.now()) + BREACHING_WINDOW
        return tickets.filter(due_at__lte=soon, status__in=UNFINISHED)
    if view == "all":
        return tickets
    raise ValidationFailed(
        {
            "view": _("Unknown view %(view)s; choose one of: %(views)s.")
            % {"view": view, "views": ", ".join(VIEW_SLUGS)}
        }
    )


def sorted_tickets(tickets: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    if sort == "due":
        return tickets.order_by(F("due_at").asc(nulls_last=True), "-id")
    if sort == "updated":
        return tickets.order_by("-updated_at", "-id")
    if sort == "created":
        return tickets.order_by("-id")
    if sort == "oldest":
        return tickets.order_by("id")
    raise ValidationFailed(
        {
            "sort": _("Unknown order %(sort)s; choose one of: %(sorts)s.")
            % {"sort": sort, "sorts": ", ".join(SORTS)}
        }
    )


def capped_count(tickets: QuerySet[Ticket]) -> int:
    """How many, counted up to COUNT_CAP + 1 (the caller shows "1,000+")."""
    return tickets.order_by()[: COUNT_CAP + 1].count()


#: Counts are kept this long per agent: six counts cost more than the page itself at
#: 100,000 tickets, and a count a few seconds old misleads nobody.
COUNTS_SECONDS = 20


def view_counts(actor: User, views: Iterable[str] = VIEW_SLUGS) -> dict[str, int]:
    key = f"inbox-counts:{actor.pk}:{','.join(views)}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        now = timezone.now()
        counts = {slug: capped_count(view_tickets(actor, slug, now=now)) for slug in views}
        cache.set(key, counts, COUNTS_SECONDS)
    return counts


@dataclass(frozen=True)
class InboxQuery:
    """What an inbox page shows: a view, filters and an order, read from a URL's query."""

    view: str = DEFAULT_VIEW
    sort: str = DEFAULT_SORT
    filters: TicketFilters = field(default_factory=TicketFilters)

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> InboxQuery:
        """Read ``?view=…&sort=…&status=open&tag=vip…``; unknown values raise field errors."""

        def values_of(key: str) -> list[str]:
            # A QueryDict's get() returns the last value only: ask it for every value.
            getlist = getattr(params, "getlist", None)
            found = getlist(key) if getlist is not None else params.get(key, ())
            return [v.strip() for v in found if isinstance(v, str) and v.strip()][:50]

        def one(key: str) -> str | None:
            values = values_of(key)
            return values[-1] if values else None

        def many(key: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
            values = tuple(dict.fromkeys(values_of(key)))
            if allowed is not None:
                wrong = [v for v in values if v not in set(allowed)]
                if wrong:
                    raise ValidationFailed(
                        {key: _("Unknown value %(value)s.") % {"value": wrong[0][:50]}}
                    )
            return values

        view = one("view") or DEFAULT_VIEW
        if view not in VIEW_SLUGS:
            raise ValidationFailed({"view": _("Unknown view %(view)s.") % {"view": view[:50]}})
        sort = one("sort") or DEFAULT_SORT
        if sort not in SORTS:
            raise ValidationFailed({"sort": _("Unknown order %(sort)s.") % {"sort": sort[:50]}})
        filters = TicketFilters(
            status=many("status", Status.values),
            priority=many("priority", Priority.values),
            channel=many("channel", Channel.values),
            team=one("team"),
            assignee=one("assignee"),
            requester=one("requester"),
            tags=tuple(
                dict.fromkeys(
                    part.strip().lower()
                    for value in many("tag")
                    for part in value.split(",")
                    if part.strip()
                )
            ),
        )
        return cls(view=view, sort=sort, filters=filters)

    def to_params(self) -> list[tuple[str, str]]:
        """The query as URL parameters, in a stable order (what a saved view stores)."""
        params = [("view", self.view)]
        if self.sort != DEFAULT_SORT:
            params.append(("sort", self.sort))
        f = self.filters
        params += [("status", v) for v in f.status]
        params += [("priority", v) for v in f.priority]
        params += [("channel", v) for v in f.channel]
        params += [(k, v) for k, v in (("team", f.team), ("assignee", f.assignee)) if v]
        params += [("requester", f.requester)] if f.requester else []
        params += [("tag", v) for v in f.tags]
        return params

    def to_query(self) -> str:
        return urlencode(self.to_params())

    @property
    def filtered(self) -> bool:
        return self.filters != TicketFilters()

    def tickets(self, actor: User) -> QuerySet[Ticket]:
        tickets = view_tickets(actor, self.view)
        if self.filtered:
            tickets = filter_tickets(actor, self.filters, tickets)
        return sorted_tickets(tickets, self.sort)

    def page_ids(self, actor: User, *, offset: int, limit: int) -> list[int]:
        """The ids of ``limit`` tickets from ``offset``, in the query's order.

        Ids first, rows after (by the caller, with their relations): joining the related
        tables into an ordered, filtered scan makes SQLite pick a plan three times
        slower. By due time, two index range scans replace one sort of every visible
        ticket (SQLite cannot read an index for ``NULLS LAST``): the tickets with a
        running deadline by ``due_at``, then the others newest first.
        """
        if self.sort != "due":
            ids = self.tickets(actor).values_list("pk", flat=True)
            return list(ids[offset : offset + limit])
        unsorted = view_tickets(actor, self.view)
        if self.filtered:
            unsorted = filter_tickets(actor, self.filters, unsorted)
        due = (
            unsorted.filter(due_at__isnull=False)
            .order_by("due_at", "-id")
            .values_list("pk", flat=True)
        )
        found = list(due[offset : offset + limit])
        if len(found) == limit:
            return found
        skip = 0 if found or offset == 0 else max(0, offset - due.count())
        rest = unsorted.filter(due_at__isnull=True).order_by("-id").values_list("pk", flat=True)
        return found + list(rest[skip : skip + limit - len(found)])
