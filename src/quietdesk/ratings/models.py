"""Satisfaction ratings: one per ticket, given by its requester after it is solved."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Score(models.IntegerChoices):
    AWFUL = 1, _("Very unhappy")
    BAD = 2, _("Unhappy")
    OKAY = 3, _("Neutral")
    GOOD = 4, _("Happy")
    GREAT = 5, _("Very happy")


class Rating(models.Model):
    """The requester's latest rating of a ticket (rating again replaces it; audit keeps all)."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="rating")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"), choices=Score.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        indexes: ClassVar = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"
