"""Keeping the index in step with tickets, messages, attachments and contacts.

The services call these functions inside their own transaction, so a message is
searchable the moment it is committed and never indexed if the change is rolled back.
Each function is idempotent: writing what is already indexed changes nothing (each
document keeps a fingerprint of its tokens), which is what makes ``search reindex``
safe to repeat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Model, Prefetch, QuerySet

from quietdesk.accounts.models import EmailAddress, Organisation, PhoneNumber, User
from quietdesk.search.backends import IndexedText, backend
from quietdesk.search.models import AttachmentText, Document, ExtractionStatus
from quietdesk.search.text import phone_forms, tokens
from quietdesk.tickets.models import PUBLIC_KINDS, Attachment, Message, Ticket

#: Body tokens per document: PostgreSQL positions stop at 16,383, so longer texts are
#: split into several documents (a phrase across the cut is not found).
CHUNK_TOKENS = 15_000
#: Characters of tokens per chunk: a tsvector stays far below PostgreSQL's 1 MB.
CHUNK_CHARS = 300_000
_NON_SPACE = re.compile(r"\S+")
#: Head tokens kept, and as many contact tokens (addresses and numbers).
HEAD_TOKENS = 400
_ID_SLOTS = 64


@dataclass(frozen=True)
class Head:
    """What every document of a ticket carries besides its own text."""

    #: Subject, number, the requester's name and organisation: found by everyone who
    #: may see the ticket.
    tokens: list[str]
    #: The requester's addresses and phone numbers: found by the service team only.
    contact: list[str]


def head_tokens(ticket: Ticket) -> Head:
    """The head of ``ticket``'s documents: subject, number and requester."""
    requester = ticket.requester
    organisation: Organisation | None = ticket.organisation
    return _head(
        ticket.subject,
        ticket.number,
        requester.name,
        [a.address for a in requester.email_addresses.all()] or [requester.email],
        organisation.name if organisation is not None else None,
        [phone.number for phone in requester.phone_numbers.all()],
    )


def _head(
    subject: str,
    number: int,
    name: str,
    addresses: list[str],
    organisation: str | None,
    phones: list[str],
) -> Head:
    found = tokens(" ".join([subject, str(number), name, organisation or ""]))
    contact = tokens(" ".join(addresses))
    for phone in phones:
        contact += tokens(phone) + phone_forms(phone)
    return Head(found[:HEAD_TOKENS], contact[:HEAD_TOKENS])


def _head_of(ticket_id: int) -> Head:
    """:func:`head_tokens` of a ticket read by id.

    Every message filed (a mail, a reply) is indexed with its ticket's head, so this is
    on the hottest write path: two plain statements, no model instances, no prefetching
    (a third of the ORM version's time). The addresses and numbers are put in the
    models' own orders, so the tokens are exactly those :func:`head_tokens` gives.
    """
    with connection.cursor() as cursor:
        cursor.execute(_HEAD_SQL, [ticket_id])
        row = cursor.fetchone()
        if row is None:
            raise Ticket.DoesNotExist(ticket_id)
        subject, number, requester_id, name, email, organisation = row
        cursor.execute(_CONTACT_POINTS_SQL, [requester_id, requester_id])
        points = cursor.fetchall()
    emails = sorted((not primary, value) for kind, value, primary, _id in points if kind == "@")
    numbers = sorted((row_id, value) for kind, value, _primary, row_id in points if kind == "#")
    return _head(
        subject,
        number,
        name,
        [address for _rank, address in emails] or [email],
        organisation,
        [number for _id, number in numbers],
    )


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_HEAD_SQL = (
    "SELECT t.subject, t.number, t.requester_id, u.name, u.email, o.name "  # noqa: S608
    f"FROM {_table(Ticket)} t JOIN {_table(User)} u ON u.id = t.requester_id "
    f"LEFT JOIN {_table(Organisation)} o ON o.id = t.organisation_id WHERE t.id = %s"
)
_CONTACT_POINTS_SQL = (
    f"SELECT '@', address, is_primary, id FROM {_table(EmailAddress)} "  # noqa: S608
    "WHERE person_id = %s UNION ALL "
    f"SELECT '#', number, CAST(0 AS BOOLEAN), id FROM {_table(PhoneNumber)} WHERE person_id = %s"
)


@dataclass(frozen=True)
class _Planned:
    """A document as it should be: its key, attributes and tokens."""

    ticket_id: int
    message_id: int | None
    attachment_id: int | None
    chunk: int
    offset: int
    public: bool
    channel: str
    author_id: int | None
    created_at: dt.datetime
    head: Head
    body: list[str]

    @property
    def key(self) -> tuple[int | None, int | None, int]:
        return (self.message_id, self.attachment_id, self.chunk)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for part in (
            " ".join(self.head.tokens),
            " ".join(self.head.contact),
            " ".join(self.body),
            f"{self.public}|{self.channel}|{self.author_id}|{self.created_at.isoformat()}"
            f"|{self.offset}|{self.ticket_id}",
        ):
            digest.update(part.encode())
            digest.update(b"\x00")
        return digest.hexdigest()


def _chunks(text: str) -> list[tuple[int, list[str]]]:
    """(character offset, tokens) of each chunk of ``text``.

    A chunk holds at most ``CHUNK_TOKENS`` tokens and ``CHUNK_CHARS`` characters of them
    (PostgreSQL keeps positions up to 16,383 and a tsvector under 1 MB). It is cut at any
    whitespace, and inside a long run without any (a log line, CJK prose) if need be.
    """
    found = tokens(text)
    if len(found) <= CHUNK_TOKENS and sum(map(len, found)) <= CHUNK_CHARS:
        return [(0, found)]
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    current_chars = 0
    current_offset = 0
    for match in _NON_SPACE.finditer(text):
        for token in tokens(match.group()):
            if current and (
                len(current) >= CHUNK_TOKENS or current_chars + len(token) > CHUNK_CHARS
            ):
                out.append((current_offset, current))
                current, current_chars, current_offset = [], 0, match.start()
            current.append(token)
            current_chars += len(token)
    if current or not out:
        out.append((current_offset, current))
    return out


def _message_plans(message: Message, head: Head) -> list[_Planned]:
    filenames = " ".join(a.filename for a in _attachments(message))
    text = message.body_text + ("\n" + filenames if filenames else "")
    return [
        _Planned(
            ticket_id=message.ticket_id,
            message_id=message.pk,
            attachment_id=None,
            chunk=index,
            offset=offset,
            public=message.kind in PUBLIC_KINDS,
            channel=message.channel,
            author_id=message.author_id,
            created_at=message.created_at,
            head=head,
            body=body,
        )
        for index, (offset, body) in enumerate(_chunks(text))
    ]


def _attachments(message: Message) -> list[Attachment]:
    prefetched = getattr(message, "indexed_attachments", None)
    if prefetched is not None:
        return list(prefetched)
    return list(message.attachments.order_by("id"))


def _attachment_plans(
    attachment: Attachment, message: Message, text: str, head: Head
) -> list[_Planned]:
    return [
        _Planned(
            ticket_id=attachment.ticket_id,
            message_id=None,
            attachment_id=attachment.pk,
            chunk=index,
            offset=offset,
            public=message.kind in PUBLIC_KINDS,
            channel=message.channel,
            author_id=message.author_id,
            created_at=message.created_at,
            head=head,
            body=body,
        )
        for index, (offset, body) in enumerate(_chunks(text))
        if body
    ]


def _sort_key(at: dt.datetime) -> int:
    micros = int(at.timestamp() * 1_000_000)
    return micros * _ID_SLOTS


def _allocate_ids(plans: Sequence[_Planned]) -> list[int]:
    """Free ids ordered by each document's time (a clash takes the next free number)."""
    ids = [_sort_key(p.created_at) + p.chunk % _ID_SLOTS for p in plans]
    while True:
        seen: set[int] = set()
        for index, candidate in enumerate(ids):
            while candidate in seen:
                candidate += 1
            seen.add(candidate)
            ids[index] = candidate
        with connection.cursor() as cursor:  # plain SQL: once per message filed
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"SELECT id FROM {_table(Document)} WHERE id IN ({marks})", ids)  # noqa: S608
            clashes = {row[0] for row in cursor.fetchall()}
        if not clashes:
            return ids
        ids = [i + 1 if i in clashes else i for i in ids]


def _apply(plans: Sequence[_Planned], existing: Iterable[Document]) -> int:
    """Make the stored documents of these keys exactly ``plans``; return how many changed."""
    by_key = {(d.message_id, d.attachment_id, d.chunk): d for d in existing}
    engine = backend()
    stale: list[Document] = []
    fresh: list[_Planned] = []
    for plan in plans:
        document = by_key.pop(plan.key, None)
        if document is not None and document.fingerprint == plan.fingerprint:
            continue
        if document is not None:
            stale.append(document)
        fresh.append(plan)
    stale += by_key.values()  # chunks that no longer exist
    if stale:
        ids = [d.id for d in stale]
        engine.delete(ids)
        Document.objects.filter(id__in=ids).delete()
    if fresh:
        ids = _allocate_ids(fresh)
        Document.objects.bulk_create(
            [
                Document(
                    id=doc_id,
                    ticket_id=plan.ticket_id,
                    message_id=plan.message_id,
                    attachment_id=plan.attachment_id,
                    chunk=plan.chunk,
                    offset=plan.offset,
                    public=plan.public,
                    channel=plan.channel,
                    author_id=plan.author_id,
                    created_at=plan.created_at,
                    fingerprint=plan.fingerprint,
                )
                for doc_id, plan in zip(ids, fresh, strict=True)
            ]
        )
        engine.write(
            [
                IndexedText(doc_id, plan.head.tokens, plan.head.contact, plan.body)
                for doc_id, plan in zip(ids, fresh, strict=True)
            ]
        )
    return len(fresh) + len(stale)


# --- What the services call ------------------------------------------------------------------


def index_message(
    message: Message, *, attachments: Sequence[Attachment] | None = None, new: bool = False
) -> int:
    """Index a new or changed message (with its attachments' names) of its ticket.

    ``attachments`` are the message's attachments when the caller has them at hand, and
    ``new`` says the message was created in this transaction (nothing indexed yet): the
    mail path files a message in as few queries as it can.
    """
    if attachments is not None:
        message.indexed_attachments = list(attachments)  # type: ignore[attr-defined]
    plans = _message_plans(message, _head_of(message.ticket_id))
    existing = [] if new else Document.objects.filter(message_id=message.pk)
    return _apply(plans, existing)


def index_ticket(ticket: Ticket | int) -> int:
    """Re-index every document of a ticket: after its subject or requester changed."""
    ticket_id = ticket if isinstance(ticket, int) else ticket.pk
    return index_tickets([ticket_id])


def index_person(person: User) -> int:
    """Re-index the tickets a contact requested, after their name, addresses, phone
    numbers or organisation changed."""
    ids = list(Ticket.objects.filter(requester=person).values_list("id", flat=True))
    return index_tickets(ids)


def index_organisation(organisation: Organisation) -> int:
    """Re-index the organisation's tickets, after it was renamed."""
    ids = list(Ticket.objects.filter(organisation=organisation).values_list("id", flat=True))
    return index_tickets(ids)


def index_attachment_text(attachment: Attachment) -> int:
    """Index the extracted text of an attachment (or drop it when there is none)."""
    message = attachment.message
    extracted = AttachmentText.objects.filter(
        attachment=attachment, status=ExtractionStatus.DONE
    ).first()
    plans: list[_Planned] = []
    if extracted is not None and extracted.text.strip():
        head = _head_of(attachment.ticket_id)
        plans = _attachment_plans(attachment, message, extracted.text, head)
    return _apply(plans, Document.objects.filter(attachment_id=attachment.pk))


def _with_people(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("requester", "organisation").prefetch_related(
        "requester__email_addresses", "requester__phone_numbers"
    )


def index_tickets(ticket_ids: Sequence[int]) -> int:
    """Bring every document of these tickets up to date; return how many changed."""
    if not ticket_ids:
        return 0
    tickets = list(_with_people(Ticket.objects.filter(pk__in=ticket_ids)))
    changed = 0
    messages = (
        Message.objects.filter(ticket_id__in=ticket_ids)
        .only("id", "ticket_id", "kind", "channel", "author_id", "created_at", "body_text")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.order_by("id").only(
                    "id", "message_id", "ticket_id", "filename"
                ),
                to_attr="indexed_attachments",
            )
        )
    )
    by_ticket: dict[int, list[Message]] = {}
    for message in messages:
        by_ticket.setdefault(message.ticket_id, []).append(message)
    texts = {
        row.attachment_id: row.text
        for row in AttachmentText.objects.filter(
            attachment__ticket_id__in=ticket_ids, status=ExtractionStatus.DONE
        ).only("attachment_id", "text")
    }
    plans: list[_Planned] = []
    for ticket in tickets:
        head = head_tokens(ticket)
        for written in by_ticket.get(ticket.pk, []):
            plans += _message_plans(written, head)
            for attachment in _attachments(written):
                text = texts.get(attachment.pk, "")
                if text.strip():
                    plans += _attachment_plans(attachment, written, text, head)
    existing = Document.objects.filter(ticket_id__in=ticket_ids).only(
        "id", "message_id", "attachment_id", "chunk", "fingerprint"
    )
    changed += _apply(plans, existing)
    return changed
