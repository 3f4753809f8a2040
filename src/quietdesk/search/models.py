"""What the search index knows beside the full-text index itself.

Each searchable piece of text (a message, or a chunk of a long one; an attachment's
extracted text) is one :class:`Document`. Its full text lives in the backend's own
structure, keyed by the document's id: the FTS5 table ``search_fts`` on SQLite, the
``tsv`` column added to this table on PostgreSQL (both created by migration 0002).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Document(models.Model):
    """One indexed text: the ticket's head (subject, number, requester) plus a body.

    The id orders documents by when their text was written (microseconds since the
    epoch, times 64, plus a tie-breaker), so "newest first" is a walk down the primary
    key on both backends, whatever order history was imported in.
    """

    id = models.BigIntegerField(primary_key=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the (ticket, id) index serves it
    )
    message = models.ForeignKey(
        "tickets.Message", null=True, on_delete=models.CASCADE, related_name="+"
    )
    attachment = models.ForeignKey(
        "tickets.Attachment", null=True, on_delete=models.CASCADE, related_name="+"
    )
    chunk = models.PositiveIntegerField(default=0)
    #: Where the chunk starts in its source text (for snippets of long messages).
    offset = models.PositiveIntegerField(default=0)
    #: Customers only ever match public documents (never internal notes or call logs).
    public = models.BooleanField()
    channel = models.CharField(max_length=16)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the (author, id) index serves it
    )
    created_at = models.DateTimeField()
    #: Hash of what is indexed: re-indexing an unchanged document writes nothing.
    fingerprint = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        indexes: ClassVar = [
            models.Index(fields=["ticket", "id"]),
            models.Index(fields=["author", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.message_id or self.attachment_id}#{self.chunk}"


class ExtractionStatus(models.TextChoices):
    DONE = "done", _("Extracted")
    UNSUPPORTED = "unsupported", _("Not a text format")
    FAILED = "failed", _("Could not be read")


class AttachmentText(models.Model):
    """The text read from an attachment (plain text, HTML, PDF) by a background task."""

    attachment = models.OneToOneField(
        "tickets.Attachment", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ExtractionStatus.choices)
    detail = models.CharField(max_length=300, blank=True)
    extracted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment text")
        verbose_name_plural = _("attachment texts")

    def __str__(self) -> str:
        return f"{self.attachment_id}: {self.status}"
