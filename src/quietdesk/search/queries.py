"""Searching: one function for every adapter (API, workspace, portal).

Results are tickets, each shown with the document that matched (newest or most
relevant), always within what the actor may see (:func:`quietdesk.access.visible_tickets`)
and, for customers, only public documents: an internal note can neither make a ticket
match nor appear in a snippet.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts.models import EmailAddress, Organisation, Role, Team, User
from quietdesk.errors import ValidationFailed
from quietdesk.search.backends import Conditions, backend
from quietdesk.search.indexing import _sort_key
from quietdesk.search.models import AttachmentText, Document
from quietdesk.search.query import Filter, Query, QueryError, parse
from quietdesk.search.snippets import Needles, highlight, snippet
from quietdesk.tickets.models import Attachment, Channel, Message, Ticket
from quietdesk.tickets.queries import with_ticket_relations
from quietdesk.tickets.states import Status

type Order = Literal["newest", "relevance"]

#: Documents read to count results: up to this many the count is exact.
COUNT_DOCUMENTS = 1000
#: Relevance ranks the newest this many matching documents.
RELEVANCE_DOCUMENTS = 1000
#: Below this many candidate tickets, walk them rather than the full-text matches.
NARROW_TICKETS = 300
#: Below this many documents written by the ``from:`` people, walk their documents.
NARROW_DOCUMENTS = NARROW_TICKETS * 5
#: At most this many people named by ``from:`` are written into the query as their ids.
LISTED_PEOPLE = 500
#: Later pages scan this many documents at first, twice as many each time after.
SCAN_BATCH = 200
MAX_SCAN_BATCH = 6400
MAX_LIMIT = 100


@dataclass(frozen=True)
class Hit:
    ticket: Ticket
    document_id: int
    kind: str  # the message's kind, or "attachment"
    message: Message | None
    attachment: Attachment | None
    matched_at: dt.datetime
    subject_html: str
    snippet_html: str


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    count: int
    count_is_exact: bool
    next_cursor: str | None


# --- Filters -----------------------------------------------------------------------------------


@dataclass
class _Scope:
    tickets: Q
    ticket_filtered: bool
    document_sql: list[str]
    document_params: list[Any]
    #: The people whose documents alone qualify (``from:``), when few enough to list.
    author_ids: set[int] | None = None
    #: A filter that can match nothing (``from:`` someone unknown).
    empty: bool = False
    #: Only one customer's tickets qualify (their page's search).
    one_customer: bool = False
    #: Whether words may match the requesters' addresses and numbers (staff only).
    contacts: bool = True


def _error(message: str, flt: Filter) -> QueryError:
    return QueryError(message, flt.position)


_STATUS_ALIASES = {"on-hold": "on_hold", "onhold": "on_hold", "hold": "on_hold"}


def _status(flt: Filter) -> Q:
    values = [_STATUS_ALIASES.get(v.lower(), v.lower()) for v in flt.values]
    for value in values:
        if value not in Status.values:
            raise _error(
                _("Unknown status %(value)s at position %(position)d; use one of: %(allowed)s.")
                % {
                    "value": value[:40],
                    "position": flt.position,
                    "allowed": ", ".join(Status.values),
                },
                flt,
            )
    return Q(status__in=values)


def _team(flt: Filter, actor: User) -> Q:
    wanted = Q()
    for value in flt.values:
        if value.lower() == "none":
            wanted |= Q(team__isnull=True)
            continue
        if not actor.is_agent_or_admin:
            wanted |= Q(pk__in=[])  # customers do not see teams
            continue
        team = Team.objects.filter(
            Q(slug__iexact=value) | Q(name__iexact=value) | Q(public_id=value)
        ).first()
        if team is None:
            raise _error(
                _("No team called %(value)s (position %(position)d).")
                % {"value": value[:60], "position": flt.position},
                flt,
            )
        wanted |= Q(team=team)
    return wanted


def _people(value: str, actor: User) -> Q:
    if value.lower() == "me":
        return Q(pk=actor.pk)
    if "@" in value:
        return Q(email__iexact=value) | Q(email_addresses__address__iexact=value)
    return (
        Q(name__iexact=value)
        | Q(public_id=value)
        | Q(email_addresses__address__istartswith=value + "@")
    )


def _assignee(flt: Filter, actor: User) -> Q:
    wanted = Q()
    for value in flt.values:
        if value.lower() == "none":
            wanted |= Q(assignee__isnull=True)
            continue
        staff = User.objects.filter(_people(value, actor), role__in=[Role.AGENT, Role.ADMIN])
        if actor.is_agent_or_admin and not staff.exists():
            raise _error(
                _("No team member called %(value)s (position %(position)d).")
                % {"value": value[:60], "position": flt.position},
                flt,
            )
        wanted |= Q(assignee__in=staff.values("pk"))
    return wanted


def _organisation(flt: Filter) -> Q:
    wanted = Q()
    for value in flt.values:
        if value.lower() == "none":
            wanted |= Q(organisation__isnull=True)
        else:
            wanted |= Q(
                organisation__in=Organisation.objects.filter(
                    Q(name__iexact=value) | Q(public_id=value)
                ).values("pk")
            )
    return wanted


def _tag(flt: Filter) -> Q:
    names = [v.lower() for v in flt.values]
    return Q(pk__in=Ticket.tags.through.objects.filter(tag__name__in=names).values("ticket_id"))


def _date(flt: Filter, actor: User) -> int:
    """The document id where the day starts, in the reader's time zone."""
    if len(flt.values) != 1:
        raise _error(
            _("%(filter)s takes one date (position %(position)d).")
            % {"filter": f"{flt.name}:", "position": flt.position},
            flt,
        )
    try:
        day = dt.date.fromisoformat(flt.values[0])
        zone = zoneinfo.ZoneInfo(actor.time_zone)
    except ValueError:
        raise _error(
            _("%(filter)s needs a date such as 2024-01-31 (position %(position)d).")
            % {"filter": f"{flt.name}:", "position": flt.position},
            flt,
        ) from None
    except zoneinfo.ZoneInfoNotFoundError:
        zone = zoneinfo.ZoneInfo("UTC")
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return _sort_key(start)


def _people_ids(values: Sequence[str], actor: User) -> list[int] | None:
    """The ids of the people ``values`` name (as :func:`_people`), or None when there are
    too many to list.

    Run once, here, rather than inside every scan of the documents, and the database's
    planner then sees the ids: it walks one person's documents newest first on the
    (author, id) index. An address is compared lower-cased, which both tables index
    (``accounts_emailaddress_address_ci_unique``, and migration ``search.0003`` for a
    person's own address), rather than through a join of the two tables.
    """
    ids: set[int] = set()
    for value in values:
        if value.lower() == "me":
            ids.add(actor.pk)
            continue
        found: list[QuerySet[Any]]
        if "@" in value:
            folded = Lower(Value(value))
            found = [
                User.objects.alias(folded=Lower("email")).filter(folded=folded),
                EmailAddress.objects.alias(folded=Lower("address")).filter(folded=folded),
            ]
        else:
            found = [
                User.objects.filter(Q(name__iexact=value) | Q(public_id=value)),
                EmailAddress.objects.filter(address__istartswith=value + "@"),
            ]
        for people in found:
            column = "pk" if people.model is User else "person_id"
            ids.update(people.order_by().values_list(column, flat=True)[: LISTED_PEOPLE + 1])
        if len(ids) > LISTED_PEOPLE:
            return None
    return sorted(ids)


def _authors(flt: Filter, actor: User, scope: _Scope) -> None:
    """``from:``: the documents written by the people named (or by anyone else)."""
    ids = _people_ids(flt.values, actor)
    if ids is None:  # a name hundreds of people share: the database finds them
        wanted = Q()
        for value in flt.values:
            wanted |= _people(value, actor)
        people = User.objects.filter(wanted).order_by().values("pk").distinct()
        sql, params = people.query.get_compiler(connection=connection).as_sql()
        listed, values = f"({sql})", list(params)
    else:
        listed, values = f"({', '.join(['%s'] * len(ids))})", list(ids)
    if flt.negated:
        if ids != []:
            scope.document_sql.append(f"(d.author_id IS NULL OR d.author_id NOT IN {listed})")
            scope.document_params += values
        return
    if ids == []:
        scope.empty = True
        return
    scope.document_sql.append(f"d.author_id IN {listed}")
    scope.document_params += values
    if ids is not None:
        scope.author_ids = set(ids) if scope.author_ids is None else scope.author_ids & set(ids)


def _scope(query: Query, actor: User) -> _Scope:
    scope = _Scope(Q(), False, [], [])
    for flt in query.filters:
        if flt.name in ("before", "after"):
            bound = _date(flt, actor)
            scope.document_sql.append("d.id < %s" if flt.name == "before" else "d.id >= %s")
            scope.document_params.append(bound)
            continue
        if flt.name == "channel":
            values = [v.lower() for v in flt.values]
            for value in values:
                if value not in Channel.values:
                    raise _error(
                        _(
                            "Unknown channel %(value)s at position %(position)d; use one of: "
                            "%(allowed)s."
                        )
                        % {
                            "value": value[:40],
                            "position": flt.position,
                            "allowed": ", ".join(Channel.values),
                        },
                        flt,
                    )
            marks = ", ".join(["%s"] * len(values))
            scope.document_sql.append(f"d.channel {'NOT ' if flt.negated else ''}IN ({marks})")
            scope.document_params += values
            continue
        if flt.name == "from":
            _authors(flt, actor, scope)
            continue
        condition = {
            "status": lambda f: _status(f),
            "team": lambda f: _team(f, actor),
            "assignee": lambda f: _assignee(f, actor),
            "org": lambda f: _organisation(f),
            "tag": lambda f: _tag(f),
        }[flt.name](flt)
        scope.tickets &= ~condition if flt.negated else condition
        scope.ticket_filtered = True
    if not actor.is_agent_or_admin:
        scope.document_sql.append("d.public = %s")
        scope.document_params.append(True)
        # A customer who sees their organisation's tickets must not find (or confirm) a
        # colleague's address or phone number by searching for it.
        scope.contacts = False
    return scope


def _sees_everything(actor: User) -> bool:
    return actor.is_active and (
        actor.role == Role.ADMIN
        or (actor.role == Role.AGENT and access.agent_sees_all_teams(actor))
    )


def _conditions(actor: User, scope: _Scope) -> tuple[Conditions, bool]:
    """The SQL restricting documents, and whether few tickets qualify (narrow)."""
    tickets = access.visible_tickets(actor).filter(scope.tickets).order_by()
    restricted = scope.ticket_filtered or not _sees_everything(actor)
    narrow = False
    parts = list(scope.document_sql)
    params = list(scope.document_params)
    if restricted:
        # A few tickets are written into the query as their ids (read once, here): the
        # planner then sees how few documents qualify and walks them on (ticket, id).
        ticket_ids = list(tickets.values_list("pk", flat=True)[:NARROW_TICKETS])
        narrow = len(ticket_ids) < NARROW_TICKETS
        if not ticket_ids:
            raise EmptyResultSet
        if narrow:
            parts.insert(0, f"d.ticket_id IN ({', '.join(['%s'] * len(ticket_ids))})")
            ticket_params: Sequence[Any] = ticket_ids
        elif scope.one_customer:
            # One customer's tickets (a few thousand at most, read on their index) are
            # gathered once and each document checked against them before its text. As
            # a join (``EXISTS``), PostgreSQL would test the text of every document it
            # walks first, the other customers' included: three times slower. (Not for
            # a customer's own search: what they see is an OR no index answers.)
            sql, ticket_params = (
                tickets.values("pk").query.get_compiler(connection=connection).as_sql()
            )
            parts.insert(0, f"(d.ticket_id IN ({sql})) IS TRUE")  # IS TRUE: kept a filter
        else:
            correlated = tickets.filter(pk=RawSQL("d.ticket_id", ())).values("pk")
            sql, ticket_params = correlated.query.get_compiler(connection=connection).as_sql()
            parts.insert(0, f"EXISTS ({sql})")
        params = [*ticket_params, *params]
    if not narrow and scope.author_ids is not None:
        narrow = (
            Document.objects.filter(author__in=scope.author_ids)[:NARROW_DOCUMENTS].count()
            < NARROW_DOCUMENTS
        )
    return Conditions(" AND ".join(parts), params, contacts=scope.contacts), narrow


# --- Cursors -------------------------------------------------------------------------------------


def _encode(data: list[Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, list) or len(data) != 4:
            raise ValueError(data)
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 for v in data
        ):
            raise ValueError(data)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValidationFailed(
            {"cursor": _("This cursor is not valid; start again without it.")}
        ) from None
    return data


# --- Searching ------------------------------------------------------------------------------------


def search(
    actor: User,
    q: str,
    *,
    order: Order = "newest",
    limit: int = 25,
    cursor: str | None = None,
    requester: User | None = None,
    with_relations: bool = False,
) -> SearchPage:
    """The tickets ``actor`` may see that match ``q``, one page of them.

    ``newest`` orders tickets by their newest matching document (a message's or an
    attachment's time); ``relevance`` ranks the newest ``RELEVANCE_DOCUMENTS`` matching
    documents. ``count`` is exact when ``count_is_exact``; otherwise there are more.
    ``requester`` keeps the tickets of one customer (their page's search): everything
    written on them, the team's answers included, unlike ``from:``.
    Each hit's ticket comes with its requester; ``with_relations`` loads everything a
    ticket listing shows as well (:func:`with_ticket_relations`: team, tags, SLA clocks…).
    """
    query = parse(q)
    state = _decode(cursor) if cursor else None  # a bad cursor is refused, results or not
    limit = max(1, min(limit, MAX_LIMIT))
    if not actor.is_active:
        return SearchPage([], 0, True, None)
    scope = _scope(query, actor)
    if scope.empty:
        return SearchPage([], 0, True, None)
    if requester is not None:
        scope.tickets &= Q(requester=requester)
        scope.ticket_filtered = True
        scope.one_customer = True
    try:
        where, narrow = _conditions(actor, scope)
    except EmptyResultSet:  # a filter that can match nothing (e.g. team: for a customer)
        return SearchPage([], 0, True, None)
    engine = backend()

    if order == "relevance" and query.text is not None:
        rows = engine.scan(
            query.text, where, below=None, limit=RELEVANCE_DOCUMENTS, narrow=narrow, ranked=True
        )
        count, exact = _count(rows, RELEVANCE_DOCUMENTS)
        best: dict[int, tuple[float, int]] = {}
        for doc_id, ticket_id, rank in rows:
            candidate = (rank, doc_id)
            if ticket_id not in best or candidate > best[ticket_id]:
                best[ticket_id] = candidate
        ordered = sorted(best.items(), key=lambda item: item[1], reverse=True)
        offset = state[0] if state else 0
        chosen = [(t, doc_id) for t, (_rank, doc_id) in ordered[offset : offset + limit]]
        more = len(ordered) > offset + limit
        next_cursor = _encode([offset + limit, count, int(exact), 1]) if more else None
        return SearchPage(_hits(actor, query, chosen, with_relations), count, exact, next_cursor)

    below = state[0] if state else None
    if state is None:
        rows = engine.scan(query.text, where, below=None, limit=COUNT_DOCUMENTS, narrow=narrow)
        count, exact = _count(rows, COUNT_DOCUMENTS)
    else:
        rows = []
        count, exact = state[1], bool(state[2])
    chosen = _newest_tickets(engine, query, where, narrow, rows, below, limit + 1, scope)
    more = len(chosen) > limit
    chosen = chosen[:limit]
    next_cursor = _encode([chosen[-1][1], count, int(exact), 0]) if more else None
    return SearchPage(_hits(actor, query, chosen, with_relations), count, exact, next_cursor)


def _count(rows: Sequence[tuple[int, int, float]], cap: int) -> tuple[int, bool]:
    return len({row[1] for row in rows}), len(rows) < cap


def _newest_tickets(
    engine: Any,
    query: Query,
    where: Conditions,
    narrow: bool,
    rows: list[tuple[int, int, float]],
    below: int | None,
    wanted: int,
    scope: _Scope,
) -> list[tuple[int, int]]:
    """(ticket id, newest matching document id) of ``wanted`` tickets below ``below``."""
    chosen: dict[int, int] = {}
    refused: set[int] = set()
    exhausted = False
    position = below
    batch = SCAN_BATCH
    while len(chosen) < wanted:
        if not rows:
            if exhausted:
                break
            rows = engine.scan(query.text, where, below=position, limit=batch, narrow=narrow)
            exhausted = len(rows) < batch
            # Long tickets, or tickets already shown on earlier pages, can take many
            # documents per new ticket: fewer round trips for the same walk.
            batch = min(batch * 2, MAX_SCAN_BATCH)
            if not rows:
                break
        fresh = [(d, t) for d, t, _r in rows if t not in chosen and t not in refused]
        position = rows[-1][0]
        rows = []
        if below is not None and fresh:
            # Tickets with a newer match were on an earlier page.
            earlier = _matched_before(engine, query, scope, {t for _d, t in fresh}, below)
            refused |= earlier
            fresh = [(d, t) for d, t in fresh if t not in earlier]
        for doc_id, ticket_id in fresh:
            if ticket_id not in chosen:
                chosen[ticket_id] = doc_id
                if len(chosen) >= wanted:
                    break
    return list(chosen.items())


def _matched_before(
    engine: Any, query: Query, scope: _Scope, ticket_ids: set[int], below: int
) -> set[int]:
    marks = ", ".join(["%s"] * len(ticket_ids))
    parts = [f"d.ticket_id IN ({marks})", "d.id >= %s", *scope.document_sql]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id, d.ticket_id FROM search_document AS d WHERE " + " AND ".join(parts),  # noqa: S608
            [*ticket_ids, below, *scope.document_params],
        )
        rows = cursor.fetchall()
    if query.text is None:
        return {int(t) for _d, t in rows}
    matched = engine.matching(query.text, [int(d) for d, _t in rows], contacts=scope.contacts)
    return {int(t) for d, t in rows if int(d) in matched}


def _hits(
    actor: User, query: Query, chosen: list[tuple[int, int]], with_relations: bool
) -> list[Hit]:
    if not chosen:
        return []
    wanted = Ticket.objects.filter(pk__in=[t for t, _d in chosen])
    tickets = {
        t.pk: t
        for t in (
            with_ticket_relations(wanted)
            if with_relations
            # Prefetched rather than joined: a join lets PostgreSQL hash every person
            # for the sake of 25 tickets.
            else wanted.prefetch_related("requester")
        )
    }
    documents = {
        d.pk: d
        for d in Document.objects.filter(pk__in=[d for _t, d in chosen])
        .select_related("message", "attachment")
        .defer("message__body_html", "message__channel_metadata")
    }
    texts = dict(
        AttachmentText.objects.filter(
            attachment_id__in=[d.attachment_id for d in documents.values() if d.attachment_id]
        ).values_list("attachment_id", "text")
    )
    attachments: dict[int, list[str]] = {}
    for message_id, filename in Attachment.objects.filter(
        message_id__in=[d.message_id for d in documents.values() if d.message_id]
    ).values_list("message_id", "filename"):
        attachments.setdefault(message_id, []).append(filename)
    needles = Needles.of(query.terms())
    hits = []
    for ticket_id, doc_id in chosen:
        ticket = tickets.get(ticket_id)
        document = documents.get(doc_id)
        if ticket is None or document is None:
            continue  # deleted meanwhile
        message = document.message
        if document.attachment is not None:
            text = texts.get(document.attachment_id or 0, "")
            kind = "attachment"
        elif message is not None:
            names = attachments.get(message.pk, [])
            text = message.body_text + ("\n" + "\n".join(names) if names else "")
            kind = message.kind
        else:
            text, kind = "", "message"
        if not actor.is_agent_or_admin and not document.public:
            continue  # never: the scan only reads public documents for customers
        hits.append(
            Hit(
                ticket=ticket,
                document_id=doc_id,
                kind=kind,
                message=message,
                attachment=document.attachment,
                matched_at=document.created_at,
                subject_html=highlight(ticket.subject, needles),
                snippet_html=snippet(text, needles, around=document.offset),
            )
        )
    return hits
