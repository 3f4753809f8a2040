"""Forms of the admin settings screens (business hours, SLA policies, canned replies,
teams, agents and mailboxes).

They only turn what the browser sent into the services' input types; every rule (time
zones, overlaps, targets) is checked by the services, whose field-level errors the views
show next to the fields they name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import holidays
from babel import Locale
from django import forms
from django.conf import settings
from django.db.models import Field, Model
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from quietdesk.accounts.models import (
    STAFF_ROLES,
    Organisation,
    Role,
    Team,
    User,
    known_time_zones,
)
from quietdesk.errors import ValidationFailed
from quietdesk.mail.models import Mailbox, SmtpSecurity
from quietdesk.schedule.hours import Opening
from quietdesk.schedule.models import Calendar
from quietdesk.schedule.services import SpecialDayIn
from quietdesk.sla.models import ClockKind, Policy
from quietdesk.tickets.models import Channel, Priority

if TYPE_CHECKING:
    from django.forms import BoundField
    from django_stubs_ext import StrOrPromise

SLOTS = 3  # opening intervals a weekday can hold on the form
SPECIAL_LINE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})\s+"
    r"(?P<hours>closed|fermé|\d{1,2}:\d{2}-\d{1,2}:\d{2}\+?(?:\s*,\s*\d{1,2}:\d{2}-\d{1,2}:\d{2}\+?)*)"
    r"(?:\s+(?P<name>.*))?$",
    re.IGNORECASE,
)
UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


def weekday_names() -> list[str]:
    """Monday to Sunday in the reader's language."""
    locale = Locale.parse(get_language() or "en", sep="-")
    return [locale.days["format"]["wide"][index].capitalize() for index in range(7)]


def zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(known_time_zones())]


def country_choices() -> list[tuple[str, str]]:
    locale = Locale.parse(get_language() or "en", sep="-")
    names = [
        (code, locale.territories.get(code, code))
        for code in holidays.list_supported_countries()
        if len(code) == 2
    ]
    return [("", _("No public holidays")), *sorted(names, key=lambda item: item[1])]


# --- Calendars ---------------------------------------------------------------------------


@dataclass
class GridRow:
    weekday: int
    slot: int
    start: str = ""
    end: str = ""
    overnight: bool = False
    error: str = ""

    @property
    def prefix(self) -> str:
        return f"open-{self.weekday}-{self.slot}"


class CalendarForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=zone_choices)
    holiday_country = forms.ChoiceField(
        label=gettext_lazy("Public holidays of"), choices=country_choices, required=False
    )
    holiday_subdivision = forms.CharField(
        label=gettext_lazy("Region (optional)"), max_length=10, required=False
    )
    is_default = forms.BooleanField(
        label=gettext_lazy("Default for teams without their own"), required=False
    )
    special_days = forms.CharField(
        label=gettext_lazy("Special days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "One per line: a date, then “closed” or hours, then an optional reason. "
            "Examples: 2026-12-24 closed Christmas Eve · 2026-12-31 09:00-12:00 New Year's Eve"
        ),
    )


def grid_from_calendar(calendar: Calendar | None) -> list[GridRow]:
    """Every interval of the calendar, plus empty rows to add more (SLOTS a day at least)."""
    by_day: dict[int, list[GridRow]] = {day: [] for day in range(7)}
    if calendar is None:
        for day in range(5):
            by_day[day].append(GridRow(day, 0, "09:00", "17:00"))
    else:
        for opening in calendar.openings.all():
            row = GridRow(opening.weekday, len(by_day[opening.weekday]))
            row.start = opening.start.isoformat("minutes")
            row.end = opening.end.isoformat("minutes")
            row.overnight = opening.overnight
            by_day[opening.weekday].append(row)
    return _padded(by_day)


def grid_from_post(data: Mapping[str, Any]) -> list[GridRow]:
    """The rows the browser sent, however many there were."""
    by_day: dict[int, list[GridRow]] = {day: [] for day in range(7)}
    for key in data:
        match = re.fullmatch(r"open-([0-6])-(\d{1,2})-(start|end)", key)
        if match is None or match[3] != "start":
            continue
        day, slot = int(match[1]), int(match[2])
        prefix = f"open-{day}-{slot}"
        by_day[day].append(
            GridRow(
                day,
                slot,
                start=str(data.get(f"{prefix}-start", "")).strip(),
                end=str(data.get(f"{prefix}-end", "")).strip(),
                overnight=data.get(f"{prefix}-overnight") == "on",
            )
        )
    for rows in by_day.values():
        rows.sort(key=lambda row: row.slot)
    return _padded(by_day)


def _padded(by_day: dict[int, list[GridRow]]) -> list[GridRow]:
    rows = []
    for day in range(7):
        filled = [row for row in by_day[day] if row.start or row.end]
        empty_rows = max(SLOTS - len(filled), 1)
        for slot, row in enumerate([*filled, *(GridRow(day, 0) for _empty in range(empty_rows))]):
            row.slot = slot
            rows.append(row)
    return rows


def rows_by_day(rows: list[GridRow]) -> list[list[GridRow]]:
    return [[row for row in rows if row.weekday == day] for day in range(7)]


def openings_from_grid(rows: list[GridRow]) -> tuple[list[Opening], list[GridRow]]:
    """Filled rows as openings, and the row each opening came from (for its errors)."""
    openings, origin = [], []
    for row in rows:
        if not row.start and not row.end:
            continue
        try:
            start = dt.time.fromisoformat(row.start)
            end = dt.time.fromisoformat(row.end)
        except ValueError:
            row.error = _("Write both times as HH:MM.")
            continue
        openings.append(Opening(row.weekday, start, end, row.overnight))
        origin.append(row)
    return openings, origin


def special_days_text(calendar: Calendar | None) -> str:
    if calendar is None:
        return ""
    lines = []
    for day in calendar.special_days.all():
        hours = (
            ", ".join(f"{s}-{e}{'+' if o else ''}" for s, e, o in day.hours)
            if day.hours
            else "closed"
        )
        lines.append(f"{day.date.isoformat()} {hours} {day.name}".rstrip())
    return "\n".join(lines)


def parse_special_days(text: str) -> tuple[list[SpecialDayIn], str]:
    """The special days written one per line, or the first line that cannot be read."""
    days = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = SPECIAL_LINE.match(line)
        try:
            if match is None:
                raise ValueError(line)
            date = dt.date.fromisoformat(match["date"])
            hours: list[tuple[dt.time, dt.time, bool]] = []
            if match["hours"].lower() not in ("closed", "fermé"):
                for part in match["hours"].split(","):
                    span = part.strip()
                    overnight = span.endswith("+")
                    start, end = span.rstrip("+").split("-")
                    hours.append((_clock(start), _clock(end), overnight))
        except ValueError:
            return [], _("Line %(number)d cannot be read: %(line)s") % {
                "number": number,
                "line": line[:80],
            }
        days.append(SpecialDayIn(date=date, name=(match["name"] or "").strip()[:100], hours=hours))
    return days, ""


def _clock(text: str) -> dt.time:
    hour, minute = text.strip().split(":")
    return dt.time(int(hour), int(minute))


# --- Policies ----------------------------------------------------------------------------


class PolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    position = forms.IntegerField(
        label=gettext_lazy("Order"),
        min_value=0,
        max_value=1_000_000,
        initial=100,
        help_text=gettext_lazy(
            "Policies are tried from the lowest order; the first that matches applies."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    teams = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Teams"),
        queryset=Team.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    organisations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Customer organisations"),
        queryset=Organisation.objects.order_by("name"),
        required=False,
    )
    priorities = forms.MultipleChoiceField(
        label=gettext_lazy("Priorities"),
        choices=Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags (any of, comma-separated)"), required=False, max_length=500
    )
    pause_when_pending = forms.BooleanField(
        label=gettext_lazy("Pause while waiting on the customer"), required=False, initial=True
    )
    pause_when_on_hold = forms.BooleanField(
        label=gettext_lazy("Pause while on hold"), required=False, initial=True
    )
    warn_at_percent = forms.IntegerField(
        label=gettext_lazy("Warn at (% of the target)"), min_value=1, max_value=99, initial=80
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Business hours"),
        queryset=Calendar.objects.all(),
        required=False,
        empty_label=gettext_lazy("The ticket's team calendar"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_choices = [
            ("minutes", gettext_lazy("minutes")),
            ("hours", gettext_lazy("hours")),
            ("days", gettext_lazy("days")),
        ]
        for kind, label in ClockKind.choices:
            self.fields[f"{kind}_value"] = forms.IntegerField(
                label=label, required=False, min_value=1, max_value=527_040
            )
            self.fields[f"{kind}_unit"] = forms.ChoiceField(
                label=gettext_lazy("unit"), choices=unit_choices, initial="hours"
            )
            self.fields[f"{kind}_business"] = forms.BooleanField(
                label=gettext_lazy("in business hours"), required=False, initial=True
            )

    def target_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (str(label), self[f"{kind}_value"], self[f"{kind}_unit"], self[f"{kind}_business"])
            for kind, label in ClockKind.choices
        ]

    def targets(self) -> dict[str, tuple[int | None, bool]]:
        data = self.cleaned_data
        result: dict[str, tuple[int | None, bool]] = {}
        for kind in ClockKind.values:
            value = data.get(f"{kind}_value")
            seconds = value * UNITS[data.get(f"{kind}_unit") or "hours"] if value else None
            result[kind] = (seconds, bool(data.get(f"{kind}_business")))
        return result


def policy_initial(policy: Policy) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "teams": list(policy.teams.all()),
        "organisations": list(policy.organisations.all()),
        "priorities": policy.priorities,
        "channels": policy.channels,
        "tags": ", ".join(policy.tags),
        "pause_when_pending": policy.pause_when_pending,
        "pause_when_on_hold": policy.pause_when_on_hold,
        "warn_at_percent": policy.warn_at_percent,
        "calendar": policy.calendar,
    }
    for kind in ClockKind.values:
        seconds, business = policy.target(kind)
        unit = next(
            (u for u in ("days", "hours", "minutes") if seconds and seconds % UNITS[u] == 0),
            "minutes",
        )
        initial[f"{kind}_value"] = seconds // UNITS[unit] if seconds else None
        initial[f"{kind}_unit"] = unit
        initial[f"{kind}_business"] = business
    return initial


class CannedReplyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Every team"),
        to_field_name="public_id",
        help_text=gettext_lazy("Only this team's agents see it."),
    )
    text_en = forms.CharField(
        label=gettext_lazy("Text in English"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    text_fr = forms.CharField(
        label=gettext_lazy("Text in French"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


# --- Teams, agents, mailboxes ---------------------------------------------------------------
# Labels and help texts come from the models where they say it well: the same words as
# the rest of the application, translated once.


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):  # a reverse relation has no label of its own
        raise TypeError(name)
    return field


def _label(model: type[Model], name: str) -> StrOrPromise:
    return capfirst(_field(model, name).verbose_name)


def _help(model: type[Model], name: str) -> StrOrPromise:
    return _field(model, name).help_text


def add_service_errors(form: forms.Form, refused: ValidationFailed) -> None:
    """Show each of a service's field errors next to its field (on top when it has none)."""
    for name, message in refused.fields.items():
        form.add_error(name if name in form.fields else None, str(message))


class StaffChoiceField(forms.ModelMultipleChoiceField[User]):
    """Agents and admins by name; inactive ones stay listed (and kept) but say so."""

    def label_from_instance(self, obj: User) -> str:
        if obj.is_active:
            return obj.display_name
        return _("%(name)s (inactive)") % {"name": obj.display_name}


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    slug = forms.CharField(
        label=_label(Team, "slug"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Used in the API; made from the name when left empty."),
    )
    description = forms.CharField(
        label=_label(Team, "description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    members = StaffChoiceField(
        label=_label(Team, "members"),
        queryset=User.objects.filter(role__in=STAFF_ROLES).order_by("name", "email"),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Agents see the tickets of their teams."),
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Business hours"),
        queryset=Calendar.objects.order_by("name"),
        to_field_name="public_id",
        required=False,
        empty_label=gettext_lazy("The default calendar"),
    )


def team_initial(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "members": list(team.members.all()),
        "calendar": team.calendar,
    }


def staff_role_choices() -> list[tuple[str, str]]:
    return [(Role.AGENT.value, str(Role.AGENT.label)), (Role.ADMIN.value, str(Role.ADMIN.label))]


class AgentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    role = forms.ChoiceField(
        label=_label(User, "role"),
        choices=staff_role_choices,
        help_text=gettext_lazy("Administrators see every ticket and change these settings."),
    )
    teams = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Teams"),
        queryset=Team.objects.order_by("name"),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sees_all_teams = forms.BooleanField(
        label=_label(User, "sees_all_teams"),
        required=False,
        help_text=_help(User, "sees_all_teams"),
    )
    language = forms.ChoiceField(label=_label(User, "language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"), choices=zone_choices, initial="Europe/Paris"
    )
    is_active = forms.BooleanField(
        label=_label(User, "is_active"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "An inactive person cannot sign in; their tickets and history are kept."
        ),
    )


class NewAgentForm(AgentForm):
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    field_order = ("email", "name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]  # a new person starts active


def agent_initial(person: User) -> dict[str, Any]:
    return {
        "name": person.name,
        "role": person.role,
        "teams": list(person.teams.all()),
        "sees_all_teams": person.sees_all_teams,
        "language": person.language,
        "time_zone": person.time_zone,
        "is_active": person.is_active,
    }


class MailboxForm(forms.Form):
    address = forms.EmailField(label=_label(Mailbox, "address"), max_length=254)
    name = forms.CharField(
        label=_label(Mailbox, "name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The name customers see next to the address."),
    )
    team = forms.ModelChoiceField(
        label=_label(Mailbox, "team"),
        queryset=Team.objects.order_by("name"),
        to_field_name="public_id",
        required=False,
        empty_label=gettext_lazy("No team: new tickets wait for triage"),
        help_text=gettext_lazy("New tickets from this address go to this team."),
    )
    language = forms.ChoiceField(
        label=_label(Mailbox, "language"),
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("For customers whose first mail does not say its language."),
    )
    send_acknowledgement = forms.BooleanField(
        label=_label(Mailbox, "send_acknowledgement"), required=False, initial=True
    )
    imap_host = forms.CharField(
        label=_label(Mailbox, "imap_host"),
        max_length=255,
        required=False,
        help_text=gettext_lazy(
            "Empty when mail reaches Quietdesk through its own SMTP server instead."
        ),
    )
    imap_port = forms.IntegerField(
        label=_label(Mailbox, "imap_port"), min_value=1, max_value=65535, initial=993
    )
    imap_tls = forms.BooleanField(label=_label(Mailbox, "imap_tls"), required=False, initial=True)
    imap_user = forms.CharField(label=_label(Mailbox, "imap_user"), max_length=255, required=False)
    imap_password_variable = forms.CharField(
        label=_label(Mailbox, "imap_password_variable"),
        max_length=100,
        required=False,
        help_text=_help(Mailbox, "imap_password_variable"),
    )
    imap_folder = forms.CharField(
        label=_label(Mailbox, "imap_folder"), max_length=255, required=False, initial="INBOX"
    )
    smtp_host = forms.CharField(
        label=_label(Mailbox, "smtp_host"),
        max_length=255,
        required=False,
        help_text=_help(Mailbox, "smtp_host"),
    )
    smtp_port = forms.IntegerField(
        label=_label(Mailbox, "smtp_port"),
        min_value=1,
        max_value=65535,
        initial=587,
        help_text=gettext_lazy("Usually 587 with STARTTLS, 465 with TLS."),
    )
    smtp_security = forms.ChoiceField(
        label=_label(Mailbox, "smtp_security"),
        choices=SmtpSecurity.choices,
        initial=SmtpSecurity.STARTTLS,
        help_text=gettext_lazy(
            "As your mail provider says; only a relay on this network may do without encryption."
        ),
    )
    smtp_user = forms.CharField(
        label=_label(Mailbox, "smtp_user"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Empty, with no variable, for a relay that needs no sign-in."),
    )
    smtp_password_variable = forms.CharField(
        label=_label(Mailbox, "smtp_password_variable"),
        max_length=100,
        required=False,
        help_text=_help(Mailbox, "smtp_password_variable"),
    )

    #: The page's sections after the mailbox's own fields; the rest (texts) comes last.
    GROUPS: ClassVar = (
        (
            gettext_lazy("Incoming mail (IMAP)"),
            (
                "imap_host",
                "imap_port",
                "imap_tls",
                "imap_user",
                "imap_password_variable",
                "imap_folder",
            ),
        ),
        (
            gettext_lazy("Outgoing mail (SMTP)"),
            ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password_variable"),
        ),
    )

    #: Texts kept per language: the model's field → the prefix of one form field per language.
    PER_LANGUAGE: ClassVar = {"acknowledgement_texts": "acknowledgement", "signatures": "signature"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        helps = {
            "acknowledgement": gettext_lazy(
                "Added to the acknowledgement, after the ticket number and when to expect an "
                "answer (which are always there)."
            ),
            "signature": gettext_lazy("Under every mail sent from this address."),
        }
        for model_field, prefix in self.PER_LANGUAGE.items():
            for code, language in settings.LANGUAGES:
                self.fields[f"{prefix}_{code}"] = forms.CharField(
                    label=_("%(field)s (%(language)s)")
                    % {"field": _label(Mailbox, model_field), "language": str(language)},
                    required=False,  # the length is checked by the service, after
                    widget=forms.Textarea(attrs={"rows": 3}),  # line endings are made \n
                    help_text=helps[prefix],
                )

    def groups(self) -> list[tuple[StrOrPromise, list[BoundField]]]:
        """The fields in the page's order, by section; an empty legend: no fieldset."""
        grouped = {name for _legend, names in self.GROUPS for name in names}
        first = [name for name in self.fields if name not in grouped]
        texts = {f"{prefix}_" for prefix in self.PER_LANGUAGE.values()}
        own = [name for name in first if not name.startswith(tuple(texts))]
        sections: list[tuple[StrOrPromise, Sequence[str]]] = [
            ("", own),
            *self.GROUPS,
            ("", [name for name in first if name not in own]),
        ]
        return [(legend, [self[name] for name in names]) for legend, names in sections]

    def texts(self, model_field: str) -> dict[str, str]:
        """The cleaned texts of ``model_field``, by language code."""
        prefix = self.PER_LANGUAGE[model_field]
        return {code: self.cleaned_data[f"{prefix}_{code}"] for code, _name in settings.LANGUAGES}

    def add_service_errors(self, refused: ValidationFailed) -> None:
        """Like :func:`add_service_errors`, with ``signatures.fr`` shown at ``signature_fr``."""
        for name, message in refused.fields.items():
            model_field, _dot, code = name.partition(".")
            if model_field in self.PER_LANGUAGE:
                name = f"{self.PER_LANGUAGE[model_field]}_{code}"
            self.add_error(name if name in self.fields else None, str(message))


def mailbox_initial(mailbox: Mailbox) -> dict[str, Any]:
    fields = (
        "address name language send_acknowledgement imap_host imap_port imap_tls imap_user "
        "imap_password_variable imap_folder smtp_host smtp_port smtp_security smtp_user "
        "smtp_password_variable"
    )
    initial = {field: getattr(mailbox, field) for field in fields.split()}
    for model_field, prefix in MailboxForm.PER_LANGUAGE.items():
        for code, text in getattr(mailbox, model_field).items():
            initial[f"{prefix}_{code}"] = text
    return initial | {"team": mailbox.team}
