"""Background work of search: reading attachments' text, then indexing it."""

from __future__ import annotations

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from quietdesk import events
from quietdesk.search.extract import extract, kind_of
from quietdesk.search.indexing import index_attachment_text
from quietdesk.search.models import AttachmentText
from quietdesk.tickets.models import Attachment


def _enqueue_for(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        if kind_of(attachment) is not None:
            extract_attachment_text.enqueue(attachment.pk)


def _without_files(event: events.Event) -> bool:
    """The services say how many files came with the event; unknown means look."""
    return bool(event.payload.get("attachments", 1) == 0)


@events.subscribe("message.posted")
def _message_posted(event: events.Event) -> None:
    if _without_files(event):
        return
    _enqueue_for(list(Attachment.objects.filter(message_id=event.payload["message_id"])))


@events.subscribe("ticket.created")
def _ticket_created(event: events.Event) -> None:
    if _without_files(event):
        return
    _enqueue_for(list(Attachment.objects.filter(ticket_id=event.payload["ticket_id"])))


@task()
def extract_attachment_text(attachment_id: int) -> str:
    """Read an attachment's text and index it (again: the result replaces any earlier)."""
    attachment = (
        Attachment.objects.select_related("blob", "message").filter(pk=attachment_id).first()
    )
    if attachment is None:
        return "no such attachment"
    extracted = extract(attachment)
    with transaction.atomic():
        AttachmentText.objects.update_or_create(
            attachment=attachment,
            defaults={
                "text": extracted.text,
                "status": extracted.status,
                "detail": extracted.detail,
                "extracted_at": timezone.now(),
            },
        )
        index_attachment_text(attachment)
    return str(extracted.status)
