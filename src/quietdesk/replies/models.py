"""Canned replies: answers written once, inserted by agents with the customer's details."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id


class CannedReply(models.Model):
    """A reusable answer, with one text per language (``texts``: code → text).

    Placeholders such as ``{{ customer.first_name }}`` are filled when inserted
    (see :data:`quietdesk.replies.services.PLACEHOLDERS`).
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_replies",
        help_text=_("Only this team's agents see it; empty for everyone."),
    )
    texts = models.JSONField(_("texts"), default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.name
