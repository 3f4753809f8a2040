"""Django's SMTP mail backend, able to send to internationalised addresses (RFC 6531).

Customers write from addresses such as ``zoë@büro.example``; Django's backend refuses a
non-ASCII local part (it cannot be written in 7-bit mail). This one sends such a mail as
SMTPUTF8 mail instead: headers in UTF-8, the envelope as written, and the ``SMTPUTF8``
option on ``MAIL FROM``. A relay that does not offer SMTPUTF8 makes this backend raise
:class:`NoSmtpUtf8`, which :func:`quietdesk.mail.outbound.send` records as a permanent
failure naming the cause. Every other mail goes out exactly as before.
"""

from __future__ import annotations

import email.policy
import smtplib
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as DjangoEmailBackend


class NoSmtpUtf8(smtplib.SMTPException):
    """The relay does not offer SMTPUTF8, which this mail's addresses need: permanent."""


def needs_smtputf8(addresses: list[str]) -> bool:
    """Whether any address has a non-ASCII local part (a domain alone can be punycoded)."""
    return any(not address.rpartition("@")[0].isascii() for address in addresses)


class EmailBackend(DjangoEmailBackend):
    def _send(self, email_message: EmailMessage) -> bool:
        recipients = email_message.recipients()
        if not recipients or not needs_smtputf8([email_message.from_email, *recipients]):
            return bool(super()._send(email_message))  # type: ignore[misc]  # not in the stubs
        sender = self.prep_address(email_message.from_email, force_ascii=False)
        envelope = [self.prep_address(address, force_ascii=False) for address in recipients]
        message: Any = email_message.message(policy=email.policy.SMTPUTF8)
        if self.connection is None:  # send_messages opened it, unless failing silently
            return False
        try:
            self.connection.sendmail(
                sender, envelope, message.as_bytes(), mail_options=["SMTPUTF8"]
            )
        except smtplib.SMTPNotSupportedError as refused:
            # Raised here only for the missing SMTPUTF8 extension (a relay without
            # STARTTLS or AUTH fails earlier, in open(), and is retried as before).
            if not self.fail_silently:
                raise NoSmtpUtf8(f"the relay does not offer SMTPUTF8: {refused}") from refused
            return False
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
