"""Service-level policies and the clocks they start on tickets."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.accounts.models import Organisation, Team
from quietdesk.ids import new_public_id


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATES = (ClockState.RUNNING, ClockState.PAUSED)


class Policy(models.Model):
    """Targets for the tickets that match its conditions (an empty condition matches all).

    Policies are tried in ``position`` order; the first that matches applies.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), blank=True, related_name="+")
    organisations = models.ManyToManyField(
        Organisation, verbose_name=_("customer organisations"), blank=True, related_name="+"
    )
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    tags = models.JSONField(_("tags (any of)"), default=list, blank=True)
    first_response_seconds = models.PositiveIntegerField(
        _("first response target"), null=True, blank=True
    )
    first_response_business = models.BooleanField(
        _("first response in business hours"), default=True
    )
    next_response_seconds = models.PositiveIntegerField(
        _("next response target"), null=True, blank=True
    )
    next_response_business = models.BooleanField(_("next response in business hours"), default=True)
    resolution_seconds = models.PositiveIntegerField(_("resolution target"), null=True, blank=True)
    resolution_business = models.BooleanField(_("resolution in business hours"), default=True)
    pause_when_pending = models.BooleanField(_("pause while waiting on the customer"), default=True)
    pause_when_on_hold = models.BooleanField(_("pause while on hold"), default=True)
    warn_at_percent = models.PositiveSmallIntegerField(_("warn at (% of target)"), default=80)
    calendar = models.ForeignKey(
        "schedule.Calendar",
        verbose_name=_("business hours"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="policies",
        help_text=_("Empty: the ticket's team calendar, else the default."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ("position", "id")
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def target(self, kind: str) -> tuple[int | None, bool]:
        """Seconds and whether they count business hours, for one kind of clock."""
        return getattr(self, f"{kind}_seconds"), getattr(self, f"{kind}_business")


class Clock(models.Model):
    """One SLA target being timed on one ticket.

    A clock runs, may pause and resume, and ends met, missed or cancelled. Time already
    counted before the current run is kept in ``consumed_us`` (in business or calendar
    microseconds, as the target), so ``due_at`` is always
    ``add(running_since, target - consumed)``. A next-response clock is a new row for
    each customer message that waits for an answer.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks"
    )
    policy = models.ForeignKey(Policy, null=True, on_delete=models.SET_NULL, related_name="clocks")
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    state = models.CharField(max_length=12, choices=ClockState.choices, default=ClockState.RUNNING)
    target_seconds = models.PositiveIntegerField()
    business = models.BooleanField(default=True)
    warn_at_percent = models.PositiveSmallIntegerField(default=80)
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    consumed_us = models.BigIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("started_at", "id")
        indexes = [
            models.Index(fields=["ticket", "kind"], name="sla_clock_ticket_kind"),
            models.Index(fields=["state", "due_at"], name="sla_clock_state_due"),
            models.Index(fields=["state", "warn_at"], name="sla_clock_state_warn"),
            models.Index(fields=["policy", "state"], name="sla_clock_policy_state"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on ticket {self.ticket_id}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES
