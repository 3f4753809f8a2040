"""What a staff member should know about, kept until they have read it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id


class Notification(models.Model):
    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    verb = models.CharField(_("what happened"), max_length=50)
    payload = models.JSONField(default=dict, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = [models.Index(fields=["recipient", "read_at", "id"], name="notif_inbox")]

    def __str__(self) -> str:
        return f"{self.verb} for {self.recipient_id}"
