"""SLA policies: checked and saved as a whole; and what a ticket's clocks say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts.models import Organisation, Team, User
from quietdesk.audit.services import record
from quietdesk.errors import ValidationFailed
from quietdesk.schedule.models import Calendar
from quietdesk.sla.models import ACTIVE_STATES, Clock, ClockKind, ClockState, Policy
from quietdesk.sla.recompute import recompute, running_clocks, sync_ticket_due_times
from quietdesk.tickets.models import Channel, Priority

#: A target of more than a year is a typo, not a promise.
MAX_TARGET_SECONDS = 366 * 24 * 3600


@dataclass
class PolicyIn:
    name: str
    position: int = 100
    is_active: bool = True
    teams: Sequence[Team] = ()
    organisations: Sequence[Organisation] = ()
    priorities: Sequence[str] = ()
    channels: Sequence[str] = ()
    tags: Sequence[str] = ()
    targets: dict[str, tuple[int | None, bool]] = field(default_factory=dict)
    pause_when_pending: bool = True
    pause_when_on_hold: bool = True
    warn_at_percent: int = 80
    calendar: Calendar | None = None


def check_policy(data: PolicyIn) -> None:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("A policy needs a name.")
    for name, values, allowed in (
        ("priorities", data.priorities, Priority.values),
        ("channels", data.channels, Channel.values),
    ):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[name] = _("Unknown: %(values)s; choose from %(allowed)s.") % {
                "values": ", ".join(unknown),
                "allowed": ", ".join(allowed),
            }
    if not 1 <= data.warn_at_percent <= 99:
        errors["warn_at_percent"] = _("Warn between 1 and 99 percent of the target.")
    for kind in ClockKind.values:
        seconds, _business = data.targets.get(kind, (None, True))
        if seconds is not None and not 60 <= seconds <= MAX_TARGET_SECONDS:
            errors[f"{kind}_minutes"] = _("A target is between 1 minute and 366 days.")
    if not any(data.targets.get(kind, (None, True))[0] for kind in ClockKind.values):
        errors["first_response_minutes"] = _("Set at least one target.")
    if errors:
        raise ValidationFailed(errors)


def save_policy(*, actor: User, data: PolicyIn, policy: Policy | None = None) -> Policy:
    access.require_admin(actor)
    check_policy(data)
    clash = Policy.objects.filter(name=data.name.strip())
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise ValidationFailed({"name": _("Another policy already has this name.")})
    before = policy_snapshot(policy) if policy is not None else None
    with transaction.atomic():
        policy = policy or Policy()
        policy.name = data.name.strip()
        policy.position = data.position
        policy.is_active = data.is_active
        policy.priorities = sorted(set(data.priorities))
        policy.channels = sorted(set(data.channels))
        policy.tags = sorted({t.strip().lower() for t in data.tags if t.strip()})
        for kind in ClockKind.values:
            seconds, business = data.targets.get(kind, (None, True))
            setattr(policy, f"{kind}_seconds", seconds)
            setattr(policy, f"{kind}_business", business)
        policy.pause_when_pending = data.pause_when_pending
        policy.pause_when_on_hold = data.pause_when_on_hold
        policy.warn_at_percent = data.warn_at_percent
        policy.calendar = data.calendar
        policy.updated_at = timezone.now()
        policy.save()
        policy.teams.set(data.teams)
        policy.organisations.set(data.organisations)
        _retarget_running(policy)
        # New targets move due times at once, before the sweep reads them again.
        recompute(running_clocks().filter(policy=policy))
        record(
            actor=actor,
            verb="sla.policy_changed" if before else "sla.policy_created",
            target=policy,
            before=before,
            after=policy_snapshot(policy),
        )
    return policy


def _retarget_running(policy: Policy) -> None:
    """Running clocks take the policy's new targets; due times follow in the background."""
    for kind in ClockKind.values:
        seconds, business = policy.target(kind)
        clocks = Clock.objects.filter(policy=policy, kind=kind, state__in=ACTIVE_STATES)
        if seconds:
            clocks.update(
                target_seconds=seconds, business=business, warn_at_percent=policy.warn_at_percent
            )
        else:
            tickets = set(clocks.values_list("ticket_id", flat=True))
            clocks.update(state=ClockState.CANCELLED, stopped_at=timezone.now(), running_since=None)
            sync_ticket_due_times(tickets)


def delete_policy(*, actor: User, policy: Policy) -> None:
    access.require_admin(actor)
    with transaction.atomic():
        record(
            actor=actor, verb="sla.policy_deleted", target=policy, before=policy_snapshot(policy)
        )
        active = Clock.objects.filter(policy=policy, state__in=ACTIVE_STATES)
        tickets = set(active.values_list("ticket_id", flat=True))
        active.update(state=ClockState.CANCELLED, stopped_at=timezone.now(), running_since=None)
        sync_ticket_due_times(tickets)
        policy.delete()


def policy_snapshot(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "teams": sorted(t.slug for t in policy.teams.all()),
        "organisations": sorted(o.public_id for o in policy.organisations.all()),
        "priorities": policy.priorities,
        "channels": policy.channels,
        "tags": policy.tags,
        **{f"{kind}_seconds": getattr(policy, f"{kind}_seconds") for kind in ClockKind.values},
        **{f"{kind}_business": getattr(policy, f"{kind}_business") for kind in ClockKind.values},
        "pause_when_pending": policy.pause_when_pending,
        "pause_when_on_hold": policy.pause_when_on_hold,
        "warn_at_percent": policy.warn_at_percent,
        "calendar": policy.calendar.public_id if policy.calendar else None,
    }


# --- What a ticket's clocks say ----------------------------------------------------------------


def current_clocks(clocks: Sequence[Clock]) -> list[Clock]:
    """The latest clock of each kind, in a fixed order."""
    latest: dict[str, Clock] = {}
    for clock in sorted(clocks, key=lambda c: (c.started_at, c.pk or 0)):
        latest[clock.kind] = clock
    return [latest[kind] for kind in ClockKind.values if kind in latest]


def expected_response(clocks: Sequence[Clock]) -> Clock | None:
    """The clock behind "we will answer by": the running response clock, if any."""
    for clock in current_clocks(clocks):
        if clock.kind != ClockKind.RESOLUTION and clock.is_active:
            return clock
    return None


def is_breached(clock: Clock, now: dt.datetime) -> bool:
    if clock.breached_at is not None or clock.state == ClockState.MISSED:
        return True
    return clock.state == ClockState.RUNNING and clock.due_at is not None and clock.due_at < now
