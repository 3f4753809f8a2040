"""Mailboxes: the addresses customers write to, their team, where their mail is fetched
and which relay sends their mail.

The IMAP and SMTP passwords are never stored nor shown: a mailbox names the environment
variable that holds each (``<name>`` or ``<name>_FILE``, read by
:mod:`quietdesk.mail.passwords` when the poller signs in or a mail is sent). The names
must start with :data:`PASSWORD_VARIABLE_PREFIX` and :data:`SMTP_PASSWORD_VARIABLE_PREFIX`,
so that a mailbox cannot be pointed at another secret of the installation
(``QUIETDESK_SECRET_KEY``, a database URL) and have it sent to a server of anyone's
choosing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts.models import Team, User
from quietdesk.accounts.services import find_person_by_email, normalise_email
from quietdesk.audit.services import record
from quietdesk.errors import ValidationFailed
from quietdesk.mail import passwords
from quietdesk.mail.models import Mailbox, SmtpSecurity
from quietdesk.mail.passwords import PasswordSource
from quietdesk.text import clean_body, clean_line

PASSWORD_VARIABLE_PREFIX = "QUIETDESK_IMAP_PASSWORD_"  # noqa: S105 - a name's prefix
SMTP_PASSWORD_VARIABLE_PREFIX = "QUIETDESK_SMTP_PASSWORD_"  # noqa: S105 - a name's prefix
VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
DEFAULT_FOLDER = "INBOX"


@dataclass(frozen=True)
class MailboxIn:
    address: str
    name: str = ""
    team: Team | None = None
    language: str = ""  # empty: the installation's language
    send_acknowledgement: bool = True
    imap_host: str = ""  # empty: mail arrives through the SMTP listener, not fetched
    imap_port: int = 993
    imap_tls: bool = True
    imap_user: str = ""
    imap_folder: str = DEFAULT_FOLDER
    imap_password_variable: str = ""
    smtp_host: str = ""  # empty: sent through the installation's relay (QUIETDESK_SMTP_*)
    smtp_port: int = 587
    smtp_security: str = SmtpSecurity.STARTTLS
    smtp_user: str = ""  # empty with no variable: a relay that needs no sign-in
    smtp_password_variable: str = ""
    #: Language code → text; empty texts are dropped, unknown codes refused.
    acknowledgement_texts: dict[str, str] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)


#: The longest acknowledgement text or signature kept, per language.
TEXT_MAX = 2000


#: Each field naming a password's variable, and the prefix that name must start with.
PASSWORD_VARIABLE_FIELDS = {
    "imap_password_variable": PASSWORD_VARIABLE_PREFIX,
    "smtp_password_variable": SMTP_PASSWORD_VARIABLE_PREFIX,
}


def shows_as_variable_name(field: str, value: str) -> bool:
    """Whether ``value``, typed in ``field``, may be shown again: empty or a name of ours,
    so never a password typed by mistake."""
    return _variable_name(value.strip(), PASSWORD_VARIABLE_FIELDS[field])


def password_source(mailbox: Mailbox) -> PasswordSource:
    """Where this process's IMAP poller would find the password, without reading it."""
    return passwords.source(mailbox.imap_password_variable)


def smtp_password_source(mailbox: Mailbox) -> PasswordSource:
    """Where this process would find the password of the mailbox's relay, without reading it."""
    return passwords.source(mailbox.smtp_password_variable)


def save_mailbox(*, actor: User, data: MailboxIn, mailbox: Mailbox | None = None) -> Mailbox:
    """Create a mailbox from ``data``, or change ``mailbox`` to it; every problem at once.

    Moving a mailbox to another IMAP server, account or folder starts reading that folder
    from its first message (as a new mailbox does): the UIDs remembered belong to the old
    one, and mail already stored is recognised by its content and not stored twice.
    """
    access.require_admin(actor)
    cleaned = _check(data, mailbox)
    with transaction.atomic():
        before = snapshot(mailbox) if mailbox is not None else None
        target = mailbox or Mailbox()
        moved = (target.imap_host, target.imap_user, target.imap_folder) != (
            cleaned.imap_host,
            cleaned.imap_user,
            cleaned.imap_folder,
        )
        for each in dataclasses.fields(cleaned):
            setattr(target, each.name, getattr(cleaned, each.name))
        if mailbox is not None and moved:
            target.imap_uidvalidity = None
            target.imap_last_uid = 0
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:  # the same address saved by someone else meanwhile
            raise ValidationFailed({"address": _("Another mailbox has this address.")}) from None
        record(
            actor=actor,
            verb="mailbox.changed" if before else "mailbox.created",
            target=target,
            before=before,
            after=snapshot(target),
        )
    return target


def delete_mailbox(*, actor: User, mailbox: Mailbox) -> None:
    """Remove a mailbox; the mail it received stays stored (no longer linked to it)."""
    access.require_admin(actor)
    with transaction.atomic():
        record(actor=actor, verb="mailbox.deleted", target=mailbox, before=snapshot(mailbox))
        mailbox.delete()


def snapshot(mailbox: Mailbox) -> dict[str, Any]:
    """What the audit trail keeps of a mailbox: the variable's name, never its value."""
    return {
        "address": mailbox.address,
        "name": mailbox.name,
        "team": mailbox.team.public_id if mailbox.team else None,
        "language": mailbox.language,
        "send_acknowledgement": mailbox.send_acknowledgement,
        "imap_host": mailbox.imap_host,
        "imap_port": mailbox.imap_port,
        "imap_tls": mailbox.imap_tls,
        "imap_user": mailbox.imap_user,
        "imap_folder": mailbox.imap_folder,
        "imap_password_variable": mailbox.imap_password_variable,
        "smtp_host": mailbox.smtp_host,
        "smtp_port": mailbox.smtp_port,
        "smtp_security": mailbox.smtp_security,
        "smtp_user": mailbox.smtp_user,
        "smtp_password_variable": mailbox.smtp_password_variable,
        "acknowledgement_texts": mailbox.acknowledgement_texts,
        "signatures": mailbox.signatures,
    }


def _check(data: MailboxIn, mailbox: Mailbox | None) -> MailboxIn:
    """``data`` cleaned, or ValidationFailed naming every field in error."""
    errors: dict[str, str] = {}
    address = ""
    try:
        address = normalise_email(data.address)
    except ValidationFailed as refused:
        errors["address"] = str(refused.fields["email"])
    if address and not address.rpartition("@")[0].isascii():
        # Replies must reach relays without SMTPUTF8 too, and their From be writable.
        errors["address"] = _("A mailbox's address needs plain letters (a to z) before the @.")
    elif address:
        others = Mailbox.objects.exclude(pk=mailbox.pk) if mailbox else Mailbox.objects.all()
        person = find_person_by_email(address)
        if others.filter(address__iexact=address).exists():
            errors["address"] = _("Another mailbox has this address.")
        elif person is not None:
            # Mail from that person would arrive at their own helpdesk mailbox, and our
            # replies to them would come back in: an address is a person's or a mailbox's.
            errors["address"] = _(
                "%(name)s writes from this address; a mailbox needs an address of its own."
            ) % {"name": person.display_name}
    name = clean_line(data.name)
    if len(name) > 100:
        errors["name"] = _("A name can have at most %(max)d characters.") % {"max": 100}
    codes = [code for code, _name in settings.LANGUAGES]
    language = data.language or settings.LANGUAGE_CODE
    if language not in codes:
        errors["language"] = _("Unknown language %(code)s; available: %(codes)s.") % {
            "code": language,
            "codes": ", ".join(codes),
        }
    host = data.imap_host.strip()
    if not _host_name(host):
        errors["imap_host"] = _("Write only the server's name, such as imap.example.com.")
    if not 1 <= data.imap_port <= 65535:
        errors["imap_port"] = _("A port is a number from 1 to 65535.")
    user = data.imap_user.strip()
    if len(user) > 255:
        errors["imap_user"] = _("A name can have at most %(max)d characters.") % {"max": 255}
    folder = clean_line(data.imap_folder) or DEFAULT_FOLDER
    if len(folder) > 255:
        errors["imap_folder"] = _("A name can have at most %(max)d characters.") % {"max": 255}
    variable = data.imap_password_variable.strip()
    if not _variable_name(variable, PASSWORD_VARIABLE_PREFIX):
        errors["imap_password_variable"] = _variable_rule(PASSWORD_VARIABLE_PREFIX)
    if host:
        needed = _("Needed to sign in to the IMAP server.")
        if not user:
            errors.setdefault("imap_user", needed)
        if not variable:
            errors.setdefault("imap_password_variable", needed)
    smtp = _check_smtp(data, errors)
    texts = {
        name: _texts_per_language(getattr(data, name), codes, name, errors)
        for name in ("acknowledgement_texts", "signatures")
    }
    if errors:
        raise ValidationFailed(errors)
    return MailboxIn(
        address=address,
        name=name,
        team=data.team,
        language=language,
        send_acknowledgement=data.send_acknowledgement,
        imap_host=host,
        imap_port=data.imap_port,
        imap_tls=data.imap_tls,
        imap_user=user,
        imap_folder=folder,
        imap_password_variable=variable,
        **smtp,
        acknowledgement_texts=texts["acknowledgement_texts"],
        signatures=texts["signatures"],
    )


def _check_smtp(data: MailboxIn, errors: dict[str, str]) -> dict[str, Any]:
    """The mailbox's own relay, cleaned; problems are added to ``errors``.

    No server: the installation's relay sends, and no sign-in may be given for it. A user
    and a password's variable go together; neither is a relay that lets this server send
    without signing in (one that knows its address).
    """
    host = data.smtp_host.strip()
    if not _host_name(host):
        errors["smtp_host"] = _("Write only the server's name, such as smtp.example.com.")
    if not 1 <= data.smtp_port <= 65535:
        errors["smtp_port"] = _("A port is a number from 1 to 65535.")
    if data.smtp_security not in SmtpSecurity.values:
        errors["smtp_security"] = _("Unknown security %(value)s; available: %(choices)s.") % {
            "value": data.smtp_security,
            "choices": ", ".join(SmtpSecurity.values),
        }
    user = data.smtp_user.strip()
    if len(user) > 255:
        errors["smtp_user"] = _("A name can have at most %(max)d characters.") % {"max": 255}
    variable = data.smtp_password_variable.strip()
    if not _variable_name(variable, SMTP_PASSWORD_VARIABLE_PREFIX):
        errors["smtp_password_variable"] = _variable_rule(SMTP_PASSWORD_VARIABLE_PREFIX)
    if user and not variable:
        errors.setdefault(
            "smtp_password_variable", _("Needed to sign in to the SMTP server as this user.")
        )
    if variable and not user:
        errors.setdefault("smtp_user", _("Needed to sign in with this password's variable."))
    if (user or variable) and not host:
        errors.setdefault(
            "smtp_host",
            _("Write the SMTP server to sign in to, or leave the user and the variable empty."),
        )
    return {
        "smtp_host": host,
        "smtp_port": data.smtp_port,
        "smtp_security": data.smtp_security,
        "smtp_user": user,
        "smtp_password_variable": variable,
    }


def _host_name(host: str) -> bool:
    """Whether ``host`` is empty or a server's name (or address) alone."""
    return len(host) <= 255 and (not host or HOST_NAME.fullmatch(host) is not None)


def _variable_name(variable: str, prefix: str) -> bool:
    """Whether ``variable`` is empty or the name of one of our own password variables."""
    return not variable or (
        VARIABLE_NAME.fullmatch(variable) is not None
        and variable.startswith(prefix)
        and len(prefix) < len(variable) <= 100
    )


def _variable_rule(prefix: str) -> str:
    return _(
        "Write the name of an environment variable, not the password: capital letters, "
        "digits and underscores, starting with %(prefix)s (such as %(example)s)."
    ) % {"prefix": prefix, "example": f"{prefix}SUPPORT"}


def _texts_per_language(
    texts: dict[str, str], codes: list[str], name: str, errors: dict[str, str]
) -> dict[str, str]:
    """``texts`` cleaned (line endings, surrounding space, empty ones dropped); problems are
    added to ``errors`` under ``<name>.<code>``."""
    kept: dict[str, str] = {}
    for code, text in texts.items():
        if code not in codes:
            errors[f"{name}.{code}"] = _("Unknown language %(code)s; available: %(codes)s.") % {
                "code": code,
                "codes": ", ".join(codes),
            }
            continue
        cleaned = clean_body(text).strip()
        if len(cleaned) > TEXT_MAX:
            errors[f"{name}.{code}"] = _("A text can have at most %(max)d characters.") % {
                "max": TEXT_MAX
            }
        elif cleaned:
            kept[code] = cleaned
    return kept
