"""One pipeline for every door mail comes through: SMTP, IMAP and archive imports.

:func:`accept` first **writes the raw bytes** to a content-addressed file and forces it
to disk. Then one transaction inserts the stored-mail row (whose ``sha256`` is unique)
and files the message inside a savepoint: parse, find or create the contact, find the
ticket it belongs to, create the ticket or add the message. A failure while filing
rolls back the savepoint only: the row stays, marked *unprocessable* with the reason,
and ``quietdesk mail reprocess`` tries again. The commit is forced to disk before the
door says "stored" (SMTP's 250, IMAP's \\Seen flag); if it fails, nothing was said and
the sender tries again. Nothing is ever dropped, and the same bytes are stored once
however often they arrive. (One transaction rather than "store, commit, then file,
commit": half the commits and disk flushes per mail, with the same guarantees.)

Threading, in this order (the first rule that finds a ticket wins):

1. ``In-Reply-To``, then ``References`` (newest first), against the Message-IDs of every
   mail received or sent for a ticket (:class:`~quietdesk.mail.models.MailReference`);
2. our reply token in a recipient address (``support+t1234-<signature>@…``), signed with
   the installation's secret key so that it cannot be guessed from the ticket number;
3. the ticket number in the subject (``[#1234]``).

Trust: a mail found through rule 1 or 3 joins the ticket only when its sender may see that
ticket (the requester, someone copied, a colleague when the organisation shares its
tickets, or the service team). A forged ``In-Reply-To`` or a guessed number from anyone
else opens a new ticket instead. A valid signed token (rule 2) proves the sender received
our mail, so it is accepted from a new address, who is then copied on the ticket.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from quietdesk import access
from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import User
from quietdesk.db import flush_commits
from quietdesk.mail.models import (
    InboundMail,
    InboundStatus,
    Mailbox,
    MailReference,
    OutboundMail,
    OutboundStatus,
)
from quietdesk.mail.parse import ParsedMail, Unparseable, parse, split_quoted
from quietdesk.tickets import services as tickets
from quietdesk.tickets.files import InMemoryUpload, write_once
from quietdesk.tickets.html import sanitise_html
from quietdesk.tickets.models import Channel, MessageKind, Ticket

logger = logging.getLogger(__name__)

TOKEN = re.compile(r"\+t(\d{1,12})-([0-9a-f]{12})@", re.IGNORECASE)
SUBJECT_NUMBER = re.compile(r"\[#(\d{1,12})\]")
BOUNCED_ID = re.compile(r"^(?:Message-ID|Original-Message-ID):\s*<([^<>\s]+)>", re.I | re.M)
BOUNCE_STATUS = re.compile(r"^Status:\s*([245]\.\d{1,3}\.\d{1,3})", re.I | re.M)


@dataclass(frozen=True)
class Received:
    inbound: InboundMail
    stored: bool  # False when these exact bytes had been stored before
    filed: bool  # filed (or found unprocessable) by this call, not by an earlier one


# --- Tokens ----------------------------------------------------------------------------------


def _signature(ticket: Ticket) -> str:
    key = hashlib.sha256(f"quietdesk-reply-token:{settings.SECRET_KEY}".encode()).digest()
    message = f"{ticket.number}:{ticket.public_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def reply_address(mailbox: Mailbox, ticket: Ticket) -> str:
    """The Reply-To of our mail about ``ticket``: the mailbox with a signed plus-token."""
    local, _, domain = mailbox.address.partition("@")
    return f"{local}+t{ticket.number}-{_signature(ticket)}@{domain}"


def ticket_from_token(addresses: list[str]) -> Ticket | None:
    for address in addresses:
        match = TOKEN.search(address)
        if match is None:
            continue
        ticket = Ticket.objects.filter(number=int(match[1])).first()
        if ticket is not None and hmac.compare_digest(_signature(ticket), match[2].lower()):
            return ticket
    return None


# --- Storing ---------------------------------------------------------------------------------


def accept(raw: bytes, *, source: str, mailbox: Mailbox | None) -> Received:
    """Store ``raw`` and file it, in one transaction; raise only if it was not stored.

    Safe to call again with the same bytes (after a crash, a retry or a re-import): they
    are stored once, and a mail left unfiled by an earlier version is filed now.
    """
    digest = hashlib.sha256(raw).hexdigest()
    # The file is content-addressed: writing it again for bytes already stored is a no-op.
    name = write_once(
        f"mail/{digest[:2]}/{digest[2:4]}/{digest}.eml", ContentFile(raw), len(raw), durable=True
    )
    # Parsing can take a while on odd mail: never while holding the write lock.
    parsed: ParsedMail | Exception
    try:
        parsed = parse(raw)
    except Exception as exc:  # kept with the reason below, like any failure to file
        parsed = exc
    try:
        with transaction.atomic():
            inbound = InboundMail.objects.create(
                sha256=digest,
                size=len(raw),
                storage_name=name,
                source=source,
                mailbox=mailbox,
                received_at=timezone.now(),  # read now (not at import) so tests can set it
            )
            try:
                if isinstance(parsed, Exception):
                    raise parsed
                with transaction.atomic():
                    _process(inbound, raw, parsed)
            except Exception as exc:  # the savepoint is undone; the stored mail stays
                _record_failure(inbound, exc)
    except IntegrityError:  # these bytes were stored before (or by another process just now)
        flush_commits()  # whoever committed them may have been cut off before its own flush
        stored = InboundMail.objects.filter(sha256=digest).first()
        if stored is None:  # not these bytes: the commit itself failed (nothing was kept)
            raise
        if stored.status == InboundStatus.RECEIVED:  # left unfiled by an earlier version
            return Received(process(stored, raw=raw), stored=False, filed=True)
        return Received(stored, stored=False, filed=False)
    flush_commits()  # on disk before anyone is told "stored"
    return Received(inbound, stored=True, filed=True)


def read_raw(inbound: InboundMail) -> bytes:
    with default_storage.open(inbound.storage_name, "rb") as handle:
        return bytes(handle.read())


def receive(raw: bytes, *, mailbox: Mailbox | None, source: str) -> InboundMail:
    """Store and file ``raw``; return the stored mail with its outcome."""
    return accept(raw, mailbox=mailbox, source=source).inbound


# --- Processing ------------------------------------------------------------------------------


def process_stale(minutes: int = 5) -> int:
    """File mail stored but never filed (left so by a version that stored and filed in two
    transactions, when its process died in between): the worker runs this."""
    cutoff = timezone.now() - dt.timedelta(minutes=minutes)
    stale = InboundMail.objects.filter(status=InboundStatus.RECEIVED, received_at__lte=cutoff)
    count = 0
    for inbound in stale.order_by("id")[:200]:
        process(inbound)
        count += 1
    return count


class Refused(Exception):
    """The mail is stored but cannot become a ticket message; the reason is kept."""


class _ProcessedElsewhere(Exception):
    """Another process filed this mail while we were at it: undo ours."""


#: What processing writes on the stored mail's row.
_OUTCOME_FIELDS = (
    "message_id",
    "automatic",
    "attempts",
    "processed_at",
    "status",
    "reason",
    "ticket_id",
    "ticket_message_id",
    "outcome",
)


def process(inbound: InboundMail, *, raw: bytes | None = None) -> InboundMail:
    """File a stored mail again (``mail reprocess``), or record why it still cannot be.

    The row is locked first, so that two processes never file the same mail; the final
    write also checks that nobody else filed it meanwhile (:func:`_finish`).
    """
    raw = read_raw(inbound) if raw is None else raw
    try:
        # Parsing can take a while on odd mail: never while holding the write lock.
        parsed = parse(raw)
        with transaction.atomic():
            locked = (
                InboundMail.objects.select_for_update(of=("self",))
                .select_related("mailbox__team")
                .get(pk=inbound.pk)
            )
            if locked.status in (InboundStatus.PROCESSED, InboundStatus.DUPLICATE):
                return locked
            _process(locked, raw, parsed)
            return locked
    except _ProcessedElsewhere:
        return InboundMail.objects.get(pk=inbound.pk)
    except Exception as exc:  # every failure is recorded, none is lost
        return _record_failure(inbound, exc)


def _record_failure(inbound: InboundMail, exc: Exception) -> InboundMail:
    """Keep the stored mail as unprocessable, with the reason; return it as stored."""
    reason = str(exc) if isinstance(exc, Refused | Unparseable) else repr(exc)
    if not isinstance(exc, Refused | Unparseable):
        logger.exception("Mail %s could not be processed", inbound.public_id, exc_info=exc)
    # Guarded like _finish: a process that lost a race to file this mail must not
    # overwrite the winner's outcome.
    InboundMail.objects.filter(
        pk=inbound.pk, status__in=(InboundStatus.RECEIVED, InboundStatus.UNPROCESSABLE)
    ).update(
        status=InboundStatus.UNPROCESSABLE,
        reason=reason[:2000],
        attempts=F("attempts") + 1,
        processed_at=timezone.now(),
    )
    inbound.refresh_from_db()  # what filing set in memory was rolled back
    return inbound


def _process(inbound: InboundMail, raw: bytes, parsed: ParsedMail) -> None:
    inbound.message_id = parsed.message_id[:255]
    inbound.automatic = parsed.automatic[:100]
    inbound.attempts += 1
    inbound.processed_at = timezone.now()
    # One look-up answers both "seen before?" (every filed mail leaves a reference to its
    # own Message-ID) and "which ticket does it answer?".
    thread_ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    lookup = thread_ids if parsed.message_id_synthesised else [inbound.message_id, *thread_ids]
    references = {
        ref.message_id: ref
        for ref in MailReference.objects.filter(message_id__in=lookup).select_related("ticket")
    }
    own = references.get(inbound.message_id)
    if own is not None and not own.outbound and not parsed.message_id_synthesised:
        inbound.status = InboundStatus.DUPLICATE
        inbound.ticket_id = own.ticket_id
        inbound.ticket_message = None
        inbound.reason = f"same Message-ID as a mail already filed in ticket #{own.ticket.number}"
        _finish(inbound)
        return
    if parsed.is_bounce and _link_bounce(inbound, raw):
        return
    if not parsed.from_address:
        raise Refused("The mail has no sender address (From).")
    person = _sender(parsed, inbound.mailbox)
    if person.is_agent_or_admin:
        # Nothing proves that a mail's From is true: mail in a staff member's name could
        # post as the team into any ticket. It waits for an administrator instead.
        raise Refused(
            "The sender is a member of the service team; mail cannot prove who sent it, "
            "so it is not posted as the team. Forward it, or answer in the workspace."
        )
    ticket, trusted_by_token = _thread(parsed, person, thread_ids, references)
    text, quoted = split_quoted(parsed.text)
    body_html = sanitise_html(parsed.html) if parsed.html else ""
    uploads = [
        InMemoryUpload(part.filename, part.payload, part.content_type)
        for part in parsed.attachments
        if len(part.payload) <= settings.ATTACHMENT_MAX_BYTES
    ]
    skipped = [
        p.filename for p in parsed.attachments if len(p.payload) > settings.ATTACHMENT_MAX_BYTES
    ]
    metadata = {
        "message_id": parsed.message_id,
        "from": parsed.from_address,
        "to": parsed.to,
        "cc": parsed.cc,
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "automatic": parsed.automatic,
        "quoted": quoted,
        "inbound": inbound.public_id,
        "skipped_attachments": skipped,
        "defects": parsed.defects[:20],
    }
    body = text or parsed.text or ("(" + (parsed.subject or "no text") + ")")
    if ticket is None:
        mailbox = inbound.mailbox
        created = tickets.create_ticket(
            actor=None,
            requester=person,
            # A mail's subject can be any length; the full one stays in the metadata.
            subject=_shorten(parsed.subject, tickets.SUBJECT_MAX_CHARS) or "(no subject)",
            body=body,
            body_html=body_html,
            channel=Channel.EMAIL,
            team=mailbox.team if mailbox is not None else None,
            attachments=uploads,
            channel_metadata=metadata,
            created_at=inbound.received_at,
        )
        inbound.ticket = created
        inbound.ticket_message = created.opening_message  # type: ignore[attr-defined]
        inbound.outcome = "created"
    else:
        if trusted_by_token and not _participant(person, ticket):
            ticket.copied.add(person)
        message = tickets.post_message(
            ticket=ticket,
            author=person,
            body=body,
            body_html=body_html,
            kind=MessageKind.REPLY,
            via=Channel.EMAIL,
            attachments=uploads,
            channel_metadata=metadata,
            created_at=inbound.received_at,
        )
        inbound.ticket_id = message.ticket_id
        inbound.ticket_message = message
        inbound.outcome = "appended" if message.ticket_id == ticket.pk else "follow_up"
    assert inbound.ticket_id is not None  # noqa: S101 - set on both paths above
    MailReference.objects.bulk_create(
        [MailReference(message_id=inbound.message_id, ticket_id=inbound.ticket_id)],
        ignore_conflicts=True,  # the first ticket to know a Message-ID keeps it
    )
    inbound.status = InboundStatus.PROCESSED
    inbound.reason = ""
    _finish(inbound)


def _finish(inbound: InboundMail) -> None:
    """Write the outcome, unless another process has filed this mail in the meantime."""
    values = {name: getattr(inbound, name) for name in _OUTCOME_FIELDS}
    updated = InboundMail.objects.filter(
        pk=inbound.pk, status__in=(InboundStatus.RECEIVED, InboundStatus.UNPROCESSABLE)
    ).update(**values)
    if not updated:
        raise _ProcessedElsewhere(inbound.public_id)


def _link_bounce(inbound: InboundMail, raw: bytes) -> bool:
    """A delivery report about mail we sent: mark that mail failed; True when linked."""
    mentioned = {m.lower() for m in BOUNCED_ID.findall(raw.decode("latin-1"))}
    failed = list(OutboundMail.objects.filter(message_id__in=mentioned))
    if not failed:
        return False
    status = BOUNCE_STATUS.search(raw.decode("latin-1"))
    reason = f"bounced ({status[1]})" if status else "bounced"
    for outbound in failed:
        outbound.status = OutboundStatus.FAILED
        outbound.last_error = reason
        outbound.save(update_fields=["status", "last_error"])
    inbound.status = InboundStatus.PROCESSED
    inbound.outcome = "bounce"
    inbound.ticket_id = failed[0].ticket_id
    inbound.reason = reason
    _finish(inbound)
    return True


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sender(parsed: ParsedMail, mailbox: Mailbox | None) -> User:
    known = accounts.find_person_by_email(parsed.from_address)
    if known is not None:
        return known
    language = parsed.content_language[:2].lower()
    if language not in dict(settings.LANGUAGES):
        language = mailbox.language if mailbox is not None else settings.LANGUAGE_CODE
    return accounts.create_contact(
        actor=None, email=parsed.from_address, name=parsed.from_name[:150], language=language
    )


def _thread(
    parsed: ParsedMail, person: User, ids: list[str], references: dict[str, MailReference]
) -> tuple[Ticket | None, bool]:
    checked: set[int] = set()
    for mid in ids:
        reference = references.get(mid)
        if reference is None or reference.ticket_id in checked:
            continue
        checked.add(reference.ticket_id)
        if _participant(person, reference.ticket):
            return reference.ticket, False
    ticket = ticket_from_token([*parsed.to, *parsed.cc, *parsed.delivered_to])
    if ticket is not None:
        return ticket, True
    match = SUBJECT_NUMBER.search(parsed.subject)
    if match:
        ticket = Ticket.objects.filter(number=int(match[1])).first()
        if ticket is not None and _participant(person, ticket):
            return ticket, False
    return None, False


def _participant(person: User, ticket: Ticket) -> bool:
    """May ``person`` see ``ticket``? Then their mail may join it."""
    return access.can_see_ticket(person, ticket)
