"""Receiving mail over SMTP (aiosmtpd): the answer follows what was stored.

* ``RCPT TO`` an address that is not one of our mailboxes (plus-addresses included):
  550, so that the sending server tells its user at once;
* a message over ``MAIL_MAX_BYTES``: 552 (aiosmtpd checks the size while reading);
* the raw message could not be stored: 451, and the sending server tries again later;
* otherwise 250, sent only after the raw bytes are committed. Processing them into a
  ticket happens after that and cannot lose them: a failure there leaves the mail stored
  as unprocessable, for ``quietdesk mail reprocess``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import close_old_connections

from quietdesk.mail.inbound import accept
from quietdesk.mail.models import Mailbox

logger = logging.getLogger(__name__)


def mailbox_for(address: str) -> Mailbox | None:
    local, _, domain = address.strip().lower().partition("@")
    base = f"{local.split('+', 1)[0]}@{domain}"
    return Mailbox.objects.filter(address__in={address.strip().lower(), base}).first()


def _store_and_process(raw: bytes, mailbox_id: int | None) -> str:
    """Store and file (raising only when not stored); return the stored id."""
    close_old_connections()
    try:
        mailbox = Mailbox.objects.filter(pk=mailbox_id).first() if mailbox_id else None
        return accept(raw, source="smtp", mailbox=mailbox).inbound.public_id
    finally:
        close_old_connections()


def _find_mailbox(address: str) -> int | None:
    close_old_connections()
    try:
        found = mailbox_for(address)
        return found.pk if found else None
    finally:
        close_old_connections()


class InboundHandler:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        mailbox_id = await sync_to_async(_find_mailbox, thread_sensitive=False)(address)
        if mailbox_id is None:
            return "550 5.1.1 No such mailbox here"
        if not hasattr(envelope, "quietdesk_mailbox"):
            envelope.quietdesk_mailbox = mailbox_id  # type: ignore[attr-defined]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        # As a delivering server does: record the envelope sender (empty for bounces and
        # other automatic mail, which must never be answered).
        sender = (envelope.mail_from or "").strip().strip("<>")
        raw = f"Return-Path: <{sender}>\r\n".encode("utf-8", "replace") + raw
        mailbox_id = getattr(envelope, "quietdesk_mailbox", None)
        try:
            stored = await sync_to_async(_store_and_process, thread_sensitive=False)(
                raw, mailbox_id
            )
        except Exception:
            logger.exception("Could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; please try again later"
        return f"250 2.0.0 Stored as {stored}"


class QuietdeskSMTP(SMTP):
    #: RFC 5321 says 1000, but real HTML mail often has longer lines; refusing them with a
    #: permanent error would lose mail.
    line_length_limit = 1024 * 1024


class InboundController(Controller):
    def factory(self) -> SMTP:
        # SMTPUTF8 (RFC 6531): senders and mailboxes with UTF-8 addresses are accepted.
        return QuietdeskSMTP(self.handler, **{"enable_SMTPUTF8": True, **self.SMTP_kwargs})
