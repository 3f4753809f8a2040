"""Mailboxes, every message received (raw, first), and the Message-IDs of each thread."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id


class SmtpSecurity(models.TextChoices):
    """How a mailbox's own relay is reached; the password is never sent in the clear by
    the first two."""

    STARTTLS = "starttls", _("STARTTLS (usually port 587)")
    TLS = "tls", _("TLS from the first byte (usually port 465)")
    NONE = "none", _("None: unencrypted (a relay on this network only)")


class Mailbox(models.Model):
    """An address customers write to, the team its new tickets go to, where its mail is
    fetched from (IMAP) and which relay sends its mail (SMTP; the installation's if none)."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    address = models.EmailField(_("address"), unique=True)
    name = models.CharField(_("display name"), max_length=100, blank=True)
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL
    )
    language = models.CharField(
        _("default language of new contacts"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    send_acknowledgement = models.BooleanField(_("acknowledge new tickets"), default=True)
    #: Per language code: the team's own words in acknowledgements, between the receipt
    #: and the promise (which are always there), and the signature under every mail.
    acknowledgement_texts = models.JSONField(_("acknowledgement text"), default=dict, blank=True)
    signatures = models.JSONField(_("signature"), default=dict, blank=True)
    imap_host = models.CharField(_("IMAP server"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_tls = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_user = models.CharField(_("IMAP user"), max_length=255, blank=True)
    imap_password_variable = models.CharField(
        _("environment variable holding the IMAP password"),
        max_length=100,
        blank=True,
        help_text=_("The password itself is never stored; e.g. QUIETDESK_IMAP_PASSWORD_SUPPORT."),
    )
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    smtp_host = models.CharField(
        _("SMTP server"),
        max_length=255,
        blank=True,
        help_text=_("Empty: mail from this address goes out through the installation's relay."),
    )
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"),
        max_length=10,
        choices=SmtpSecurity.choices,
        default=SmtpSecurity.STARTTLS,
    )
    smtp_user = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password_variable = models.CharField(
        _("environment variable holding the SMTP password"),
        max_length=100,
        blank=True,
        help_text=_("The password itself is never stored; e.g. QUIETDESK_SMTP_PASSWORD_SUPPORT."),
    )
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("address",)
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.address


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not processed yet")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate")
    UNPROCESSABLE = "unprocessable", _("Unprocessable")


class InboundMail(models.Model):
    """A received message, stored before anything else happens to it.

    The raw bytes are kept (content-addressed, ``sha256``) whatever happens next: a
    message that cannot become a ticket message stays here as unprocessable with the
    reason, for an admin to see and ``quietdesk mail reprocess`` to retry.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    storage_name = models.CharField(max_length=200)
    source = models.CharField(_("received through"), max_length=20)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.TextField(_("reason"), blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    automatic = models.CharField(_("sent by a machine"), max_length=100, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, blank=True)  # created / appended / follow_up
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name = _("received mail")
        verbose_name_plural = _("received mail")
        indexes = [models.Index(fields=["status", "id"], name="mail_inbound_status")]

    def __str__(self) -> str:
        return f"{self.message_id or self.sha256[:12]} ({self.status})"


class MailReference(models.Model):
    """A Message-ID known to belong to a ticket: received, or sent by us."""

    message_id = models.CharField(max_length=255, unique=True)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    outbound = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.message_id


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Waiting to retry")
    FAILED = "failed", _("Failed")


class OutboundMail(models.Model):
    """A mail we send: composed and stored first, sent by a background task.

    Temporary failures (connection refused, 4xx) are retried with growing pauses;
    permanent ones (5xx, a bounce that names this Message-ID) mark it failed, and the
    message it carries shows it.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    ticket_message = models.ForeignKey(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_mails",
    )
    #: The mailbox it is sent from, whose relay sends it (none: the installation's relay).
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20)  # reply / acknowledgement / visitor_ack / rating_request
    automatic = models.BooleanField(default=False)
    sender = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=1000)
    body_text = models.TextField()
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    status = models.CharField(
        max_length=12, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="mail_outbound_due"),
            models.Index(fields=["ticket", "automatic"], name="mail_outbound_ticket"),
            models.Index(fields=["created_at"], name="mail_outbound_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} ({self.status})"
