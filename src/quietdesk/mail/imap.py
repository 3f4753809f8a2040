"""Polling IMAP mailboxes: a message is flagged seen only after it is stored.

For each mailbox with an IMAP server, :func:`fetch` logs in (TLS by default; the password
comes from the environment variable the mailbox names, or ``<variable>_FILE``, and is never
logged or stored), selects the folder and asks for the messages after the last UID it
stored. Each message is stored through the one pipeline; only then is it flagged
``\\Seen`` and the mailbox's last UID moved forward. If storing fails, the message stays
unflagged and the next poll tries again. A changed ``UIDVALIDITY`` (the server renumbered
the folder) starts again from the first message: mail already stored is recognised by its
content and not stored twice.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quietdesk.mail import passwords
from quietdesk.mail.inbound import accept
from quietdesk.mail.models import Mailbox

logger = logging.getLogger(__name__)

UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
BATCH = 100


class ImapError(Exception):
    """The mailbox could not be read; nothing was lost, the next poll tries again."""


@dataclass
class FetchResult:
    mailbox: str
    fetched: int = 0
    stored: int = 0
    error: str = ""


def password_for(mailbox: Mailbox) -> str:
    try:
        return passwords.read(mailbox.imap_password_variable)
    except passwords.PasswordUnavailable as missing:
        raise ImapError(f"{mailbox.address}: {missing}") from None


def connect(mailbox: Mailbox) -> Any:
    factory = imaplib.IMAP4_SSL if mailbox.imap_tls else imaplib.IMAP4
    return factory(mailbox.imap_host, mailbox.imap_port, timeout=60)


def fetch(mailbox: Mailbox, *, connector: Callable[[Mailbox], Any] = connect) -> FetchResult:
    result = FetchResult(mailbox.address)
    try:
        client = connector(mailbox)
    except (OSError, imaplib.IMAP4.error) as exc:
        result.error = f"cannot connect to {mailbox.imap_host}: {type(exc).__name__}"
        return result
    try:
        _check(client.login(mailbox.imap_user, password_for(mailbox)), "login")
        status, data = client.select(_quote(mailbox.imap_folder))
        _check((status, data), "select")
        validity = _uidvalidity(client, mailbox.imap_folder)
        if validity is not None and validity != mailbox.imap_uidvalidity:
            if mailbox.imap_uidvalidity is not None:
                logger.warning("%s: UIDVALIDITY changed; reading the folder again", mailbox.address)
            mailbox.imap_uidvalidity = validity
            mailbox.imap_last_uid = 0
            mailbox.save(update_fields=["imap_uidvalidity", "imap_last_uid"])
        status, data = client.uid("search", None, f"UID {mailbox.imap_last_uid + 1}:*")
        _check((status, data), "search")
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > mailbox.imap_last_uid)
        for uid in uids[:BATCH]:
            status, parts = client.uid("fetch", str(uid), "(BODY.PEEK[])")
            _check((status, parts), "fetch")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) > 1), None)
            if raw is None:
                raise ImapError(f"message {uid} came back empty")
            result.fetched += 1
            try:
                accept(raw, source="imap", mailbox=mailbox)
            except Exception as exc:  # not stored: leave it unflagged for the next poll
                logger.exception("%s: could not store message %s", mailbox.address, uid)
                result.error = f"storing failed: {type(exc).__name__}"
                break
            # Stored and filed (or kept as unprocessable) and on disk: now it may be flagged.
            client.uid("store", str(uid), "+FLAGS", "(\\Seen)")
            mailbox.imap_last_uid = uid
            mailbox.save(update_fields=["imap_last_uid"])
            result.stored += 1
    except (ImapError, imaplib.IMAP4.error, OSError) as exc:
        result.error = str(exc) if isinstance(exc, ImapError) else type(exc).__name__
    finally:
        with contextlib.suppress(Exception):  # the connection is going away anyway
            client.logout()
    return result


def _check(answer: tuple[Any, Any], step: str) -> None:
    status = answer[0]
    if status != "OK":
        raise ImapError(f"the server refused {step}")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uidvalidity(client: Any, folder: str) -> int | None:
    response = getattr(client, "untagged_responses", {}).get("UIDVALIDITY")
    if response:
        return int(response[0])
    status, data = client.status(_quote(folder), "(UIDVALIDITY)")
    if status == "OK" and data and data[0]:
        match = UIDVALIDITY.search(data[0])
        if match:
            return int(match[1])
    return None
