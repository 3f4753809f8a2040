"""Mail we send: agents' public replies, acknowledgements of new tickets, rating requests.

Composing and sending are separate. A change that should send mail stores an
:class:`~quietdesk.mail.models.OutboundMail` when it commits (the composed mail, with
its headers) and queues :func:`send_task`. Sending retries temporary failures with
growing pauses (:data:`RETRY_MINUTES`) and marks permanent ones failed; the message it
carries shows the delivery state in the API.

Every mail carries a unique ``Message-ID`` (registered as a reference of the ticket, so
replies to it thread), ``In-Reply-To`` and ``References`` for the conversation, the
ticket number in the subject, and a ``Reply-To`` with the signed reply token. Automatic
mail (acknowledgements, rating requests) says ``Auto-Submitted``, is never sent in answer to
mail that was itself automatic, and is capped per ticket and per recipient.

Everything a customer reads is written in the customer's language.

A mail is sent through the relay of the mailbox it is from when that mailbox has an SMTP
server (:func:`connection_for`), else through the installation's mailer. A relay whose
password variable is not set is a temporary failure: the mail waits and is retried, and
says which variable is missing (never a value), until an administrator sets it.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import logging
import smtplib
from collections.abc import Callable
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from quietdesk import events
from quietdesk.accounts.models import User
from quietdesk.mail import passwords
from quietdesk.mail.inbound import reply_address
from quietdesk.mail.models import (
    Mailbox,
    MailReference,
    OutboundMail,
    OutboundStatus,
    SmtpSecurity,
)
from quietdesk.mail.smtp_backend import EmailBackend, NoSmtpUtf8
from quietdesk.ratings.models import Score
from quietdesk.ratings.services import link_token
from quietdesk.sla import services as sla
from quietdesk.sla.promise import promise_for
from quietdesk.text import in_language
from quietdesk.tickets.models import Channel, Message, MessageKind, Ticket
from quietdesk.tickets.states import Status

logger = logging.getLogger(__name__)

#: A queued mail whose sending task has not run after this long is sent by the sweep.
STALE_QUEUED_MINUTES = 5
#: Minutes to wait before each retry of a temporary failure.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360, 720)


# --- Composing ---------------------------------------------------------------------------------


def mailbox_for_ticket(ticket: Ticket) -> Mailbox | None:
    """The mailbox the conversation uses: the team's, else any."""
    if ticket.team_id is not None:
        found = Mailbox.objects.filter(team_id=ticket.team_id).order_by("id").first()
        if found is not None:
            return found
    return Mailbox.objects.order_by("id").first()


def _recipients(ticket: Ticket) -> list[User]:
    people = [ticket.requester, *ticket.copied.all()]
    return [p for p in people if p.is_customer and p.is_active and p.email]


def _thread_ids(ticket: Ticket) -> tuple[str, list[str]]:
    """The Message-ID to answer and the References chain (oldest first, at most 20)."""
    known = list(
        MailReference.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("message_id", flat=True)
    )
    chain = known[:1] + known[-19:] if len(known) > 20 else known
    return (chain[-1] if chain else ""), chain


def _subject(ticket: Ticket, language: str = "") -> str:
    return f"[#{ticket.number}] {ticket.subject}"


def _compose(
    *,
    ticket: Ticket,
    kind: str,
    body: str,
    language: str,
    to: list[str],
    cc: list[str],
    automatic: bool,
    message: Message | None,
    mailbox: Mailbox | None,
) -> OutboundMail | None:
    sender = mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL
    sender_name = (mailbox.name if mailbox else "") or (ticket.team.name if ticket.team else "")
    domain = sender.partition("@")[2] or "quietdesk.invalid"
    answer_to, chain = _thread_ids(ticket)
    message_id = make_msgid(idstring=f"qd{ticket.number}", domain=domain).strip("<>").lower()
    outbound = OutboundMail.objects.create(
        ticket=ticket,
        ticket_message=message,
        mailbox=mailbox,
        kind=kind,
        automatic=automatic,
        sender=formataddr((sender_name, sender)) if sender_name else sender,
        to=to,
        cc=cc,
        reply_to=reply_address(mailbox, ticket) if mailbox else "",
        subject=_SUBJECTS.get(kind, _subject)(ticket, language),
        body_text=body,
        message_id=message_id,
        in_reply_to=answer_to,
        references=" ".join(f"<{mid}>" for mid in chain),
        language=language,
    )
    MailReference.objects.get_or_create(
        message_id=message_id, defaults={"ticket": ticket, "outbound": True}
    )
    transaction.on_commit(lambda: send_task.enqueue(outbound.pk))
    return outbound


def _ack_subject(ticket: Ticket, language: str) -> str:
    with override(language):
        return _("[#%(number)s] We have received your message: %(subject)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }


def _rating_subject(ticket: Ticket, language: str) -> str:
    with override(language):
        return _("[#%(number)s] Solved: how did we do? %(subject)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }


def _visitor_ack_subject(ticket: Ticket, language: str) -> str:
    with override(language):
        return _("[#%(number)s] We have received your request") % {"number": ticket.number}


_SUBJECTS = {
    "acknowledgement": _ack_subject,
    "visitor_ack": _visitor_ack_subject,
    "rating_request": _rating_subject,
}


def _closing(ticket: Ticket, mailbox: Mailbox | None, language: str) -> list[str]:
    """The lines under every mail: the team's signature in ``language`` (if the mailbox has
    one, else in the mailbox's language, else any), then how to reply to the ticket."""
    signature = in_language(mailbox.signatures, language, mailbox.language) if mailbox else ""
    with override(language):
        footer = _(
            "Reply to this email to add to ticket #%(number)s. Please keep the number in the "
            "subject."
        ) % {"number": ticket.number}
    return ["-- ", *([signature, ""] if signature else []), footer]


def queue_reply(message: Message) -> OutboundMail | None:
    """Send a public reply of the service team to the customers of the ticket."""
    if message.kind != MessageKind.REPLY or message.author is None:
        return None
    if not message.author.is_agent_or_admin or message.channel == Channel.EMAIL:
        return None  # customers' own messages, and mail that came in by mail, are not sent
    ticket = message.ticket
    people = _recipients(ticket)
    if not people:
        return None
    requester = people[0] if people[0].pk == ticket.requester_id else None
    language = (requester or people[0]).language
    mailbox = mailbox_for_ticket(ticket)
    body = "\n".join([message.body_text, "", *_closing(ticket, mailbox, language)])
    to = [people[0].email]
    cc = [p.email for p in people[1:]]
    return _compose(
        ticket=ticket,
        kind="reply",
        body=body,
        language=language,
        to=to,
        cc=cc,
        automatic=False,
        message=message,
        mailbox=mailbox,
    )


def queue_acknowledgement(ticket: Ticket, *, now: dt.datetime | None = None) -> OutboundMail | None:
    """Tell the requester we have their mail, its number, and when to expect an answer.

    Never in answer to automatic mail, and at most ``MAIL_AUTO_REPLIES_PER_TICKET`` per
    ticket and ``MAIL_AUTO_REPLIES_PER_RECIPIENT`` per recipient in the window.
    """
    mailbox = mailbox_for_ticket(ticket)
    if mailbox is None or not mailbox.send_acknowledgement:
        return None
    if ticket.follow_up_of_id is not None:
        return None  # a reply to a closed ticket: the customer knows the conversation
    now = now or timezone.now()
    requester = ticket.requester
    first = ticket.messages.order_by("id").first()
    # A form sent by a visitor who was not signed in: the address was typed, not proven,
    # so the mail repeats nothing they wrote (neither their subject nor the name typed).
    typed = first is not None and bool(first.channel_metadata.get("visitor"))
    if ticket.channel == Channel.WEB_FORM and not typed:
        return None  # signed-in customers see the promise on the page they land on

    def body() -> list[str]:
        promise = promise_for(
            sla.expected_response(list(ticket.sla_clocks.all())),
            zone=requester.time_zone,
            language=requester.language,
            now=now,
        )
        own = in_language(mailbox.acknowledgement_texts, requester.language, mailbox.language)
        return [
            _("We have received your message and opened ticket #%(number)s.")
            % {"number": ticket.number},
            promise.text if promise else _("We will answer as soon as we can."),
            *(["", own] if own else []),
        ]

    return _queue_automatic(
        ticket,
        kind="visitor_ack" if typed else "acknowledgement",
        first=first,
        mailbox=mailbox,
        now=now,
        body=body,
        by_name=not typed,
    )


def queue_rating_request(ticket: Ticket, *, now: dt.datetime | None = None) -> OutboundMail | None:
    """Tell the requester their ticket is solved and offer one link per score.

    Sent once per solving (a ticket reopened and solved again asks again), never to
    someone who wrote by automatic mail, and within the automatic-mail caps.
    """
    if not settings.RATING_REQUESTS or ticket.status != Status.SOLVED:
        return None
    asked = OutboundMail.objects.filter(ticket=ticket, kind="rating_request")
    if ticket.solved_at is not None and asked.filter(created_at__gte=ticket.solved_at).exists():
        return None  # asked already since this solving (a retried task, a double event)
    base = settings.SITE_URL + reverse("rate", args=[link_token(ticket)])

    def body() -> list[str]:
        return [
            _("Ticket #%(number)s is solved. How did we do? One click is enough:")
            % {"number": ticket.number},
            "",
            *(f"{score.label}: {base}?score={score.value}" for score in reversed(Score)),
            "",
            _("If the problem is not solved, reply to this email and the ticket opens again."),
        ]

    return _queue_automatic(
        ticket,
        kind="rating_request",
        first=ticket.messages.order_by("id").first(),
        mailbox=mailbox_for_ticket(ticket),
        now=now or timezone.now(),
        body=body,
    )


def _queue_automatic(
    ticket: Ticket,
    *,
    kind: str,
    mailbox: Mailbox | None,
    now: dt.datetime,
    body: Callable[[], list[str]],
    first: Message | None,
    by_name: bool = True,
) -> OutboundMail | None:
    """Compose an automatic mail to the requester, in their language, if it may be sent:
    to an active customer with an address, never when the ticket began with automatic
    mail (``first``, the ticket's opening message), and within the caps. ``body`` gives the
    lines between greeting and footer."""
    requester = ticket.requester
    if not requester.is_customer or not requester.is_active or not requester.email:
        return None
    if first is None or first.channel_metadata.get("automatic"):
        return None
    if not _within_caps(ticket, requester.email, now):
        logger.warning("Automatic %s for ticket %s not sent: cap reached", kind, ticket.number)
        return None
    language = requester.language
    with override(language):
        lines = [
            _("Hello %(name)s,") % {"name": requester.display_name} if by_name else _("Hello,"),
            "",
            *body(),
            "",
            *_closing(ticket, mailbox, language),
        ]
    return _compose(
        ticket=ticket,
        kind=kind,
        body="\n".join(lines),
        language=language,
        to=[requester.email],
        cc=[],
        automatic=True,
        message=None,
        mailbox=mailbox,
    )


def _within_caps(ticket: Ticket, address: str, now: dt.datetime) -> bool:
    automatic = OutboundMail.objects.filter(automatic=True)
    if automatic.filter(ticket=ticket).count() >= settings.MAIL_AUTO_REPLIES_PER_TICKET:
        return False
    since = now - dt.timedelta(seconds=settings.MAIL_AUTO_REPLY_WINDOW_SECONDS)
    # ``to`` is a JSON list: match the quoted address in its text.
    recent = automatic.filter(created_at__gte=since, to__icontains=f'"{address}"')
    return recent.count() < settings.MAIL_AUTO_REPLIES_PER_RECIPIENT


@events.subscribe("message.posted")
def _message_posted(event: events.Event) -> None:
    if event.payload.get("kind") != MessageKind.REPLY or event.payload.get("via") == Channel.EMAIL:
        return  # the same rule as queue_reply's first lines, without reading the message
    message = (
        Message.objects.select_related("ticket__requester", "ticket__team", "author")
        .filter(pk=event.payload["message_id"])
        .first()
    )
    if message is not None:
        with transaction.atomic():
            queue_reply(message)


#: Channels whose new tickets are acknowledged by mail (the portal shows its promise).
ACKNOWLEDGED_CHANNELS = frozenset({Channel.EMAIL, Channel.WEB_FORM})


@events.subscribe("ticket.created")
def _ticket_created(event: events.Event) -> None:
    # Composed in the background: receiving mail should only store and file it.
    if event.payload.get("channel", Channel.EMAIL) in ACKNOWLEDGED_CHANNELS:
        acknowledge_task.enqueue(event.payload["ticket_id"])


@task()
def acknowledge_task(ticket_id: int) -> str:
    ticket = (
        Ticket.objects.select_related("requester", "team")
        .filter(pk=ticket_id, channel__in=ACKNOWLEDGED_CHANNELS)
        .first()
    )
    if ticket is None:
        return "not acknowledged by mail"
    with transaction.atomic():
        composed = queue_acknowledgement(ticket)
    return "queued" if composed else "not acknowledged"


@events.subscribe("ticket.status_changed")
def _status_changed(event: events.Event) -> None:
    if event.payload.get("after") == Status.SOLVED and settings.RATING_REQUESTS:
        rating_request_task.enqueue(event.payload["ticket_id"])


@task()
def rating_request_task(ticket_id: int) -> str:
    ticket = Ticket.objects.select_related("requester", "team").filter(pk=ticket_id).first()
    if ticket is None:
        return "no such ticket"
    with transaction.atomic():
        composed = queue_rating_request(ticket)
    return "queued" if composed else "not asked"


# --- Sending -----------------------------------------------------------------------------------


#: Message-IDs can be long (Outlook's are about 80 characters): folding them would turn
#: In-Reply-To and References into encoded words that no mail client threads on.
LONG_LINES = email.policy.default.clone(max_line_length=998)


class ThreadedEmail(EmailMessage):
    def message(self, *, policy: Any = None) -> Any:
        return super().message(policy=policy or LONG_LINES)


def build(outbound: OutboundMail) -> EmailMessage:
    headers = {
        "Message-ID": f"<{outbound.message_id}>",
        "X-Quietdesk-Ticket": str(outbound.ticket.number),
    }
    if outbound.in_reply_to:
        headers["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        headers["References"] = outbound.references
    if outbound.automatic:
        # RFC 3834: an acknowledgement answers a mail; a rating request answers none.
        replied = outbound.kind in ("acknowledgement", "visitor_ack")
        headers["Auto-Submitted"] = "auto-replied" if replied else "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    if outbound.language:
        headers["Content-Language"] = outbound.language
    return ThreadedEmail(
        subject=outbound.subject,
        body=outbound.body_text,
        from_email=outbound.sender,
        to=outbound.to,
        cc=outbound.cc,
        reply_to=[outbound.reply_to] if outbound.reply_to else None,
        headers=headers,
    )


def send(outbound: OutboundMail, *, now: dt.datetime | None = None) -> OutboundMail:
    """One sending attempt; records the result."""
    now = now or timezone.now()
    if outbound.status in (OutboundStatus.SENT, OutboundStatus.FAILED):
        return outbound
    outbound.attempts += 1
    try:
        connection_for(outbound.mailbox).send_messages([build(outbound)])
    except passwords.PasswordUnavailable as exc:  # the admin can set it: wait for them
        _later(outbound, now)
        outbound.last_error = f"the relay of {outbound.mailbox}: {exc}"[:1000]
    except NoSmtpUtf8 as exc:  # a UTF-8 address, a relay without SMTPUTF8
        outbound.status = OutboundStatus.FAILED
        outbound.last_error = _describe(exc)
    except ValueError as exc:  # an address no mail system accepts: retrying cannot help
        outbound.status = OutboundStatus.FAILED
        outbound.last_error = f"invalid address: {exc}"[:500]
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        code = _code(exc)
        if code is not None and 500 <= code < 600:
            outbound.status = OutboundStatus.FAILED
        else:
            _later(outbound, now)
        outbound.last_error = _describe(exc)
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeouts, 4xx
        _later(outbound, now)
        outbound.last_error = _describe(exc)
    else:
        outbound.status = OutboundStatus.SENT
        outbound.sent_at = now
        outbound.last_error = ""
        outbound.next_attempt_at = None
    outbound.save()
    return outbound


def connection() -> Any:
    """The installation's mailer (SMTP relay by default; locmem in tests)."""
    return mailers.default


def connection_for(mailbox: Mailbox | None) -> Any:
    """The mailer for mail from ``mailbox``: its own relay if it has one, else the
    installation's. Raises :class:`~quietdesk.mail.passwords.PasswordUnavailable` when the
    relay's password cannot be read."""
    if mailbox is None or not mailbox.smtp_host:
        return connection()
    username = mailbox.smtp_user or None
    # Read at each sending, so that a changed or newly set variable counts at once.
    password = passwords.read(mailbox.smtp_password_variable) if username else None
    return EmailBackend(
        # Built here rather than from MAILERS; the alias only names it in Django's errors.
        alias=f"mailbox {mailbox.address}",
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=username,
        password=password,
        use_tls=mailbox.smtp_security == SmtpSecurity.STARTTLS,
        use_ssl=mailbox.smtp_security == SmtpSecurity.TLS,
        timeout=settings.SMTP_TIMEOUT_SECONDS,
    )


def _later(outbound: OutboundMail, now: dt.datetime) -> None:
    if outbound.attempts >= settings.MAIL_SEND_ATTEMPTS:
        outbound.status = OutboundStatus.FAILED
        outbound.next_attempt_at = None
        return
    pause = RETRY_MINUTES[min(outbound.attempts - 1, len(RETRY_MINUTES) - 1)]
    outbound.status = OutboundStatus.RETRYING
    outbound.next_attempt_at = now + dt.timedelta(minutes=pause)


def _code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return min(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


@task()
def send_task(outbound_id: int) -> str:
    outbound = (
        OutboundMail.objects.select_related("ticket", "mailbox").filter(pk=outbound_id).first()
    )
    if outbound is None:
        return "gone"
    return send(outbound).status


def send_due(now: dt.datetime | None = None) -> int:
    """Retry every mail whose pause is over (the worker runs this each round)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=STALE_QUEUED_MINUTES)
    due = OutboundMail.objects.filter(
        Q(status=OutboundStatus.RETRYING, next_attempt_at__lte=now)
        | Q(status=OutboundStatus.QUEUED, created_at__lte=stale)  # its task never ran
    )
    count = 0
    for pk in list(due.values_list("pk", flat=True)[:200]):
        with transaction.atomic():
            outbound = (
                OutboundMail.objects.select_for_update(skip_locked=True)
                .select_related("ticket")
                .filter(pk=pk, status__in=(OutboundStatus.RETRYING, OutboundStatus.QUEUED))
                .first()
            )
            if outbound is not None:  # another worker may have sent it meanwhile
                send(outbound, now=now)
                count += 1
    return count
