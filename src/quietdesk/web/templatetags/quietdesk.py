"""Template filters for what pages show about time: relative, in the reader's language."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_timedelta
from django import template
from django.utils import timezone
from django.utils.translation import get_language, to_locale

register = template.Library()


@register.filter
def relative(moment: dt.datetime | None) -> str:
    """ "in 3 hours" / "dans 3 heures", "2 days ago" / "il y a 2 jours"."""
    if moment is None:
        return ""
    return format_timedelta(
        moment - timezone.now(),
        granularity="minute",
        threshold=1.5,
        add_direction=True,
        locale=to_locale(get_language() or "en"),
    )


@register.filter
def is_past(moment: dt.datetime | None) -> bool:
    return moment is not None and moment < timezone.now()


@register.filter
def status_label(code: str | None) -> str:
    from quietdesk.tickets.states import Status

    try:  # rather than ``in Status.values``, which builds the list of choices each time
        return str(Status(code or "").label)
    except ValueError:
        return str(code or "")


@register.filter
def channel_label(code: str | None) -> str:
    from quietdesk.tickets.models import Channel

    try:
        return str(Channel(code or "").label)
    except ValueError:
        return str(code or "")


@register.filter
def priority_label(code: str | None) -> str:
    from quietdesk.tickets.models import Priority

    return str(Priority(code).label) if code in Priority.values else str(code or "")


@register.filter
def clock_label(code: str | None) -> str:
    from quietdesk.sla.models import ClockKind

    return str(ClockKind(code).label) if code in ClockKind.values else str(code or "")


@register.filter
def lookup(mapping: dict[str, str], key: str | None) -> str:
    return mapping.get(key or "", "") if mapping else ""
