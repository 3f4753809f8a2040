"""Intake forms: one form per topic, routed to the topic's team.

A form's texts (title, introduction, each field's label, help and choices) hold one
version per language, as ``{"en": …, "fr": …}``; the reader gets theirs, else the
installation's default, else any. A submission opens a ticket and keeps the answers as
structured data next to it (:class:`Submission`), with each label as the customer read it.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id


class FieldKind(models.TextChoices):
    TEXT = "text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    CHOICE = "choice", _("Choice")
    FILE = "file", _("File")


class IntakeForm(models.Model):
    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    titles = models.JSONField(_("titles"), default=dict)
    intros = models.JSONField(_("introductions"), default=dict)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intake_forms",
    )
    tags = models.JSONField(_("tags"), default=list)
    is_active = models.BooleanField(_("published"), default=True)
    allows_anonymous = models.BooleanField(
        _("open to visitors who are not signed in"), default=True
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ("position", "slug")
        verbose_name = _("intake form")
        verbose_name_plural = _("intake forms")

    def __str__(self) -> str:
        return self.slug


class IntakeField(models.Model):
    form = models.ForeignKey(IntakeForm, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=40)
    kind = models.CharField(_("kind"), max_length=16, choices=FieldKind.choices)
    labels = models.JSONField(_("labels"), default=dict)
    helps = models.JSONField(_("help texts"), default=dict)
    required = models.BooleanField(_("required"), default=False)
    #: For choice fields: ``[{"value": "billing", "labels": {"en": "Billing", …}}, …]``.
    choices = models.JSONField(_("choices"), default=list)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ("position", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["form", "key"], name="intake_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class Submission(models.Model):
    """The answers that opened a ticket, as the customer gave them.

    ``answers`` is a list of ``{"key", "kind", "label", "value"}`` (for a choice,
    also ``"choice"``: the value's code; for a file, ``value`` is the file's name), so that
    editing the form later never changes what a customer said.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="submission"
    )
    form = models.ForeignKey(
        IntakeForm, null=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    language = models.CharField(max_length=8)
    answers = models.JSONField(default=list)
    #: Sent by someone who was not signed in: the address was typed, not proven.
    from_visitor = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self) -> str:
        return f"{self.form_id}→{self.ticket_id}"
