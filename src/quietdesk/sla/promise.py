"""The response-time promise, as the customer reads it.

"We will answer by Tuesday, November 24, 2026, 4:00 AM (Eastern Time)" for an English
reader in New York; "Nous vous répondrons d'ici le mardi 24 novembre 2026 à 10:00
(heure de Paris)" for a French reader in Paris. Dates and times come from Babel (CLDR)
in the reader's language and time zone, never from hand-written formats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_location, get_timezone_name
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from quietdesk.sla.models import Clock

#: How each language names a time zone: French readers say "heure de Paris" (the
#: city), English readers "Eastern Time" (the zone's generic name).
ZONE_STYLE = {"fr": "city"}


@dataclass(frozen=True)
class Promise:
    due_at: dt.datetime
    overdue: bool
    text: str


def zone_label(zone: str, language: str) -> str:
    tz = ZoneInfo(zone)
    if zone == "UTC":
        return "UTC"
    if ZONE_STYLE.get(language) == "city":
        city = get_timezone_location(tz, locale=language, return_city=True)
        with override(language):
            return _("%(city)s time") % {"city": city}
    return get_timezone_name(tz, "long", zone_variant="generic", locale=language)


def format_moment(moment: dt.datetime, zone: str, language: str) -> str:
    """ "Tuesday, November 24, 2026, 4:00 AM (Eastern Time)" in ``language``."""
    local = moment.astimezone(ZoneInfo(zone))
    with override(language):
        return _("%(date)s, %(time)s (%(zone)s)") % {
            "date": format_date(local.date(), "full", locale=language),
            "time": format_time(local.time(), "short", locale=language),
            "zone": zone_label(zone, language),
        }


def promise_for(
    clock: Clock | None, *, zone: str, language: str, now: dt.datetime | None = None
) -> Promise | None:
    """What to tell the customer about ``clock`` (the running response clock), if anything."""
    if clock is None or clock.due_at is None:
        return None
    now = now or timezone.now()
    when = format_moment(clock.due_at, zone, language)
    with override(language):
        if clock.due_at < now:
            text = _("Our answer was due by %(when)s. We are late, and we are on it.") % {
                "when": when
            }
        else:
            text = _("We will answer by %(when)s.") % {"when": when}
    return Promise(due_at=clock.due_at, overdue=clock.due_at < now, text=text)
