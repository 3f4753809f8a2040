"""Tickets, their messages and attachments."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id
from quietdesk.tickets.states import Status

__all__ = [
    "Attachment",
    "Blob",
    "Channel",
    "Message",
    "MessageKind",
    "Priority",
    "Status",
    "Tag",
    "Ticket",
    "TicketCounter",
]


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Customer portal")
    WEB_FORM = "web_form", _("Web form")
    CHAT = "chat", _("Live chat")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Meeting")
    API = "api", _("API")
    WEB = "web", _("Agent workspace")


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    CALL = "call", _("Call log")
    CHAT = "chat", _("Chat transcript")
    SYSTEM = "system", _("System message")


#: Kinds that the customer can read.
PUBLIC_KINDS = frozenset({MessageKind.REPLY, MessageKind.CHAT, MessageKind.SYSTEM})
#: Kinds only staff can write.
STAFF_ONLY_KINDS = frozenset({MessageKind.NOTE, MessageKind.CALL, MessageKind.SYSTEM})


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class TicketCounter(models.Model):
    """One row holding the last display number handed out."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket counter")

    def __str__(self) -> str:
        return str(self.value)


class Ticket(models.Model):
    """One customer conversation, whatever channels it travels through."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    number = models.BigIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=250)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("origin channel"), max_length=16, choices=Channel.choices)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        db_index=False,  # the (requester, id) index serves it
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("customer organisation"),
        null=True,
        blank=True,
        db_index=False,  # the (organisation, id) index serves it
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        db_index=False,  # the (team, id) index serves it
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        db_index=False,  # the (assignee, id) index serves it
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    copied = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("people in copy"),
        related_name="copied_tickets",
        blank=True,
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), related_name="tickets", blank=True)
    follow_up_of = models.ForeignKey(
        "self",
        verbose_name=_("follow-up of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    last_message_at = models.DateTimeField(_("last message"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    sla_policy = models.ForeignKey(
        "sla.Policy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # read from the ticket, never searched by
    )
    sla_reason = models.CharField(_("why this SLA policy"), max_length=300, blank=True)
    #: The earliest due time of the ticket's running SLA clocks, kept by ``sla.clocks``
    #: so that inboxes sort by urgency from an index instead of joining the clocks.
    due_at = models.DateTimeField(_("next due"), null=True, blank=True, db_index=False)

    class Meta:
        ordering = ("-id",)
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes: ClassVar = [
            models.Index(fields=["status", "id"]),
            models.Index(fields=["team", "id"]),
            models.Index(fields=["assignee", "id"]),
            models.Index(fields=["requester", "id"]),
            models.Index(fields=["organisation", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["due_at", "id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"


class Message(models.Model):
    """One entry in a ticket's thread: a reply, a note, a call log, a chat transcript."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    ticket = models.ForeignKey(
        Ticket,
        db_index=False,  # the (ticket, created_at, id) index serves it
        on_delete=models.CASCADE,
        related_name="messages",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(
        _("HTML"), blank=True, help_text=_("Unsafe HTML is removed when the message is received.")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    channel_metadata = models.JSONField(_("channel metadata"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes: ClassVar = [models.Index(fields=["ticket", "created_at", "id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_KINDS


class Blob(models.Model):
    """File content, stored once per SHA-256 however many messages carry it."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    storage_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.sha256


class Attachment(models.Model):
    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=127)
    size = models.BigIntegerField(_("size"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("id",)
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class SavedView(models.Model):
    """An agent's own inbox: a view, filters and an order, kept under a name."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("inbox query"), max_length=1000)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("name", "id")
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["owner", "name"], name="tickets_savedview_owner_name")
        ]

    def __str__(self) -> str:
        return self.name
