"""Business calendars: when a team is open to answer."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id

#: The name of the calendar each installation starts with (see migration 0002).
DEFAULT_CALENDAR_NAME = gettext_noop("Standard hours")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Calendar(models.Model):
    """Opening hours in one time zone, with public holidays and special days.

    Each team can have its own; the installation's default serves the others.
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64)
    holiday_country = models.CharField(
        _("public holidays of country"),
        max_length=3,
        blank=True,
        help_text=_("ISO 3166 code, e.g. FR; empty for no public holidays."),
    )
    holiday_subdivision = models.CharField(_("region"), max_length=10, blank=True)
    is_default = models.BooleanField(_("installation default"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_calendar",
            )
        ]

    def __str__(self) -> str:
        return self.shown_name

    @property
    def shown_name(self) -> str:
        """The name to show: the calendar every installation starts with (named in English
        by its migration) is named in the reader's language until an admin renames it."""
        if self.is_default and self.name == DEFAULT_CALENDAR_NAME:
            return gettext(DEFAULT_CALENDAR_NAME)
        return self.name


class OpeningHours(models.Model):
    """One opening interval on a weekday, in the calendar's time zone."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="openings")
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))
    overnight = models.BooleanField(_("closes the next day"), default=False)

    class Meta:
        ordering = ("calendar", "weekday", "start")
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M}–{self.end:%H:%M}"


class SpecialDay(models.Model):
    """A date with its own hours: closed (no hours) or special opening hours."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="special_days")
    date = models.DateField(_("date"))
    name = models.CharField(_("reason"), max_length=100, blank=True)
    #: ``[[start "HH:MM", end "HH:MM", overnight], ...]``; empty means closed all day.
    hours = models.JSONField(_("hours"), default=list, blank=True)

    class Meta:
        ordering = ("calendar", "date")
        verbose_name = _("special day")
        verbose_name_plural = _("special days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_special_day_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.name}".strip()
