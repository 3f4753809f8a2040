"""SLA clocks, driven by what happens to a ticket.

The ticket services call these functions inside their own transaction, so a clock
never disagrees with the ticket it times:

* :func:`match_policy` when a ticket is opened, :func:`start_clocks` once it exists;
* :func:`staff_replied` on a public reply from the service team (satisfies the
  first-response and next-response clocks);
* :func:`customer_wrote` on a public message from the customer (starts a
  next-response clock when none is waiting);
* :func:`status_changed` on every status change (pauses and resumes according to the
  policy, ends the clocks when the ticket is solved or closed, resumes the resolution
  clock when it is reopened);
* :func:`reconsider` when the team, priority or tags change (the matching policy may
  change, and with it the targets of the running clocks).

Every start, pause, resume and end is an audit event on the ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Min
from django.utils.translation import gettext as _

from quietdesk.audit.services import record
from quietdesk.schedule.hours import BusinessHours, from_us, to_us
from quietdesk.schedule.services import business_hours, calendar_for_team
from quietdesk.sla.models import ACTIVE_STATES, Clock, ClockKind, ClockState, Policy
from quietdesk.tickets.states import Status

if TYPE_CHECKING:
    from quietdesk.accounts.models import Team, User
    from quietdesk.tickets.models import Ticket

RUNNING_STATUSES = (Status.NEW, Status.OPEN)
FINAL_STATUSES = (Status.SOLVED, Status.CLOSED)
RESPONSE_KINDS = (ClockKind.FIRST_RESPONSE, ClockKind.NEXT_RESPONSE)


# --- Which policy ---------------------------------------------------------------------


def active_policies() -> list[Policy]:
    return list(
        Policy.objects.filter(is_active=True)
        .select_related("calendar")
        .prefetch_related("teams", "organisations")
    )


def match_policy(
    *,
    team: Team | None,
    priority: str,
    organisation_id: int | None,
    channel: str,
    tags: Sequence[str],
    policies: Iterable[Policy] | None = None,
) -> tuple[Policy | None, str]:
    """The first active policy whose conditions all hold, and why it matched."""
    for policy in active_policies() if policies is None else policies:
        reasons: list[str] = []
        team_ids = {t.pk for t in policy.teams.all()}
        if team_ids:
            if team is None or team.pk not in team_ids:
                continue
            reasons.append(_("team %(team)s") % {"team": team.name})
        org_ids = {o.pk for o in policy.organisations.all()}
        if org_ids:
            if organisation_id not in org_ids:
                continue
            reasons.append(_("customer organisation"))
        if policy.priorities:
            if priority not in policy.priorities:
                continue
            reasons.append(_("priority %(priority)s") % {"priority": priority})
        if policy.channels:
            if channel not in policy.channels:
                continue
            reasons.append(_("channel %(channel)s") % {"channel": channel})
        if policy.tags:
            shared = sorted(set(policy.tags) & set(tags))
            if not shared:
                continue
            reasons.append(_("tag %(tag)s") % {"tag": shared[0]})
        why = ", ".join(reasons) if reasons else _("applies to every ticket")
        return policy, _("Policy “%(policy)s”: %(why)s.") % {"policy": policy.name, "why": why}
    return None, _("No SLA policy matches this ticket.")


def hours_for(ticket: Ticket, policy: Policy | None) -> BusinessHours:
    calendar = policy.calendar if policy is not None and policy.calendar_id else None
    return business_hours(calendar or calendar_for_team(ticket.team))


# --- Arithmetic on one clock ----------------------------------------------------------


def measure(clock: Clock, hours: BusinessHours, start: dt.datetime, end: dt.datetime) -> int:
    """Microseconds of the clock's kind of time between two instants."""
    if clock.business:
        return hours.between(start, end) // dt.timedelta(microseconds=1)
    return to_us(end) - to_us(start)


def advance(clock: Clock, hours: BusinessHours, start: dt.datetime, us: int) -> dt.datetime:
    if clock.business:
        return hours.add(start, dt.timedelta(microseconds=us))
    return from_us(to_us(start) + us)


def place(clock: Clock, hours: BusinessHours) -> None:
    """Set ``due_at`` and ``warn_at`` of a running clock from what it has consumed."""
    if clock.state != ClockState.RUNNING or clock.running_since is None:
        clock.due_at = clock.warn_at = None
        return
    clock.due_at, clock.warn_at = due_and_warning(
        running_since=clock.running_since,
        consumed_us=clock.consumed_us,
        target_seconds=clock.target_seconds,
        warn_at_percent=clock.warn_at_percent,
        business=clock.business,
        hours=hours,
    )


def due_and_warning(
    *,
    running_since: dt.datetime,
    consumed_us: int,
    target_seconds: int,
    warn_at_percent: int,
    business: bool,
    hours: BusinessHours,
) -> tuple[dt.datetime, dt.datetime]:
    """When a clock running since ``running_since`` will be due, and warn."""
    target = target_seconds * 1_000_000
    warn = target * warn_at_percent // 100
    remaining = (max(target - consumed_us, 0), max(warn - consumed_us, 0))
    if business:
        due = hours.add(running_since, dt.timedelta(microseconds=remaining[0]))
        warning = hours.add(running_since, dt.timedelta(microseconds=remaining[1]))
        return due, warning
    start = to_us(running_since)
    return from_us(start + remaining[0]), from_us(start + remaining[1])


def time_left(clock: Clock, hours: BusinessHours, now: dt.datetime) -> dt.timedelta | None:
    """What remains (negative when overdue), in the clock's kind of time."""
    if not clock.is_active:
        return None
    used = clock.consumed_us
    if clock.state == ClockState.RUNNING and clock.running_since is not None:
        used += measure(clock, hours, clock.running_since, now)
    return dt.timedelta(microseconds=clock.target_seconds * 1_000_000 - used)


# --- Events of a ticket -----------------------------------------------------------------


def start_clocks(ticket: Ticket, *, actor: User | None, now: dt.datetime) -> list[Clock]:
    """Start the first-response and resolution clocks of a new ticket's policy."""
    policy = ticket.sla_policy
    if policy is None:
        return []
    hours = hours_for(ticket, policy)
    clocks = [
        _new_clock(ticket, policy, kind, hours, now)
        for kind in (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION)
        if policy.target(kind)[0]
    ]
    Clock.objects.bulk_create(clocks)
    for clock in clocks:
        _audit(clock, actor, "sla.clock_started")
    _store_due(ticket, min((c.due_at for c in clocks if c.due_at is not None), default=None))
    return clocks


def staff_replied(ticket: Ticket, *, actor: User, now: dt.datetime) -> None:
    for clock in _active(ticket, RESPONSE_KINDS):
        _stop(clock, ticket, actor, now, satisfied=True)
    sync_due(ticket)


def customer_wrote(ticket: Ticket, *, actor: User | None, now: dt.datetime) -> None:
    """A customer message waits for an answer: time it, unless a response clock already runs.

    Before anyone from the team has answered, the wait is a first response (again, when a
    ticket solved without a reply is reopened); after that, a next response.
    """
    policy = ticket.sla_policy
    if policy is None or _active(ticket, RESPONSE_KINDS):
        return
    kind = ClockKind.FIRST_RESPONSE if ticket.first_response_at is None else ClockKind.NEXT_RESPONSE
    if not policy.target(kind)[0]:
        return
    hours = hours_for(ticket, policy)
    clock = _new_clock(ticket, policy, kind, hours, now)
    if not _should_run(ticket.status, policy):
        _pause_in_memory(clock, hours, now)
    clock.save()
    _audit(clock, actor, "sla.clock_started")
    sync_due(ticket)


def status_changed(
    ticket: Ticket, *, actor: User | None, before: str, after: str, now: dt.datetime
) -> None:
    policy = ticket.sla_policy
    if before == after:
        return
    if after in FINAL_STATUSES:
        for clock in _active(ticket):
            if clock.kind == ClockKind.RESOLUTION:
                _stop(clock, ticket, actor, now, satisfied=True)
            else:
                _stop(clock, ticket, actor, now, satisfied=False)
        sync_due(ticket)
        return
    if before == Status.SOLVED and policy is not None:
        _reopen_resolution(ticket, actor, now)
    run = policy is None or _should_run(after, policy)
    hours = hours_for(ticket, policy)
    for clock in _active(ticket):
        if run and clock.state == ClockState.PAUSED:
            clock.state = ClockState.RUNNING
            clock.running_since = now
            place(clock, hours)
            _save(clock, actor, "sla.clock_resumed")
        elif not run and clock.state == ClockState.RUNNING:
            _pause_in_memory(clock, hours, now)
            _save(clock, actor, "sla.clock_paused")
    sync_due(ticket)


def reconsider(ticket: Ticket, *, actor: User | None, now: dt.datetime) -> None:
    """Re-match the policy after a change of team, priority or tags."""
    _reconsider(ticket, actor=actor, now=now)
    sync_due(ticket)


def _reconsider(ticket: Ticket, *, actor: User | None, now: dt.datetime) -> None:
    tags = [tag.name for tag in ticket.tags.all()]
    policy, reason = match_policy(
        team=ticket.team,
        priority=ticket.priority,
        organisation_id=ticket.organisation_id,
        channel=ticket.channel,
        tags=tags,
    )
    old = ticket.sla_policy
    if (policy.pk if policy else None) == ticket.sla_policy_id:
        if reason != ticket.sla_reason:
            ticket.sla_reason = reason
            ticket.save(update_fields=["sla_reason"])
        recompute_ticket(ticket)  # the team, and with it the calendar, may have changed
        return
    ticket.sla_policy = policy
    ticket.sla_reason = reason
    ticket.save(update_fields=["sla_policy", "sla_reason"])
    record(
        actor=actor,
        verb="sla.policy_changed",
        target=ticket,
        ticket=ticket,
        before={"policy": old.name if old else None},
        after={"policy": policy.name if policy else None, "reason": reason},
    )
    hours = hours_for(ticket, policy)
    active = _active(ticket)
    for clock in active:
        seconds, business = policy.target(clock.kind) if policy else (None, True)
        if not seconds or policy is None:
            _stop(clock, ticket, actor, now, satisfied=False)
            continue
        clock.policy = policy
        clock.target_seconds = seconds
        clock.business = business
        clock.warn_at_percent = policy.warn_at_percent
        place(clock, hours)
        _save(clock, actor, "sla.clock_retargeted")
    if policy is None or ticket.status in FINAL_STATUSES:
        return
    # Targets the old policy did not have start now, counted from the ticket's start.
    kinds = {clock.kind for clock in active}
    missing = []
    if ticket.first_response_at is None:
        missing.append(ClockKind.FIRST_RESPONSE)
    missing.append(ClockKind.RESOLUTION)
    for kind in missing:
        if kind in kinds or not policy.target(kind)[0]:
            continue
        if ticket.sla_clocks.filter(kind=kind).exclude(state=ClockState.CANCELLED).exists():
            continue  # this target was already timed (met or missed) for this ticket
        clock = _new_clock(ticket, policy, kind, hours, ticket.created_at)
        clock.consumed_us = measure(clock, hours, ticket.created_at, now)
        clock.running_since = now
        if not _should_run(ticket.status, policy):
            _pause_in_memory(clock, hours, now)
        else:
            place(clock, hours)
        clock.save()
        _audit(clock, actor, "sla.clock_started")


def recompute_ticket(ticket: Ticket) -> None:
    hours = hours_for(ticket, ticket.sla_policy)
    for clock in _active(ticket):
        if clock.state == ClockState.RUNNING:
            old = clock.due_at
            place(clock, hours)
            if clock.due_at != old:
                clock.save(update_fields=["due_at", "warn_at"])
    sync_due(ticket)


def sync_due(ticket: Ticket) -> None:
    """Keep ``Ticket.due_at``, the earliest due time of its running clocks, in step."""
    if ticket.sla_policy_id is None and ticket.due_at is None:
        return  # no policy, never had a deadline: nothing to read
    due = Clock.objects.filter(ticket=ticket, state=ClockState.RUNNING).aggregate(
        due=Min("due_at")
    )["due"]
    _store_due(ticket, due)


def _store_due(ticket: Ticket, due: dt.datetime | None) -> None:
    if due != ticket.due_at:
        ticket.due_at = due
        type(ticket).objects.filter(pk=ticket.pk).update(due_at=due)


# --- Helpers --------------------------------------------------------------------------------


def _should_run(status: str, policy: Policy) -> bool:
    if status in RUNNING_STATUSES:
        return True
    if status == Status.PENDING:
        return not policy.pause_when_pending
    if status == Status.ON_HOLD:
        return not policy.pause_when_on_hold
    return False


def _new_clock(
    ticket: Ticket, policy: Policy, kind: str, hours: BusinessHours, now: dt.datetime
) -> Clock:
    seconds, business = policy.target(kind)
    assert seconds  # noqa: S101 - callers check the policy has this target
    clock = Clock(
        ticket=ticket,
        policy=policy,
        kind=kind,
        state=ClockState.RUNNING,
        target_seconds=seconds,
        business=business,
        warn_at_percent=policy.warn_at_percent,
        started_at=now,
        running_since=now,
    )
    place(clock, hours)
    return clock


def _pause_in_memory(clock: Clock, hours: BusinessHours, now: dt.datetime) -> None:
    if clock.breached_at is None and clock.due_at is not None and clock.due_at < now:
        clock.breached_at = clock.due_at  # overdue when paused: remember when it broke
    if clock.running_since is not None:
        clock.consumed_us += max(measure(clock, hours, clock.running_since, now), 0)
    clock.state = ClockState.PAUSED
    clock.running_since = None
    clock.due_at = clock.warn_at = None


def _stop(
    clock: Clock, ticket: Ticket, actor: User | None, now: dt.datetime, *, satisfied: bool
) -> None:
    if clock.running_since is not None:
        hours = hours_for(ticket, clock.policy)
        if clock.breached_at is None and clock.due_at is not None and clock.due_at < now:
            clock.breached_at = clock.due_at
        clock.consumed_us += max(measure(clock, hours, clock.running_since, now), 0)
    late = clock.breached_at is not None or clock.consumed_us > clock.target_seconds * 1_000_000
    if late and clock.breached_at is None:
        clock.breached_at = now  # the moment it broke is unknown; record when it was seen
    if satisfied:
        clock.state = ClockState.MISSED if late else ClockState.MET
    else:
        clock.state = ClockState.CANCELLED
    clock.running_since = None
    clock.stopped_at = now
    _save(clock, actor, "sla.clock_stopped")


def _reopen_resolution(ticket: Ticket, actor: User | None, now: dt.datetime) -> None:
    clock = (
        ticket.sla_clocks.filter(
            kind=ClockKind.RESOLUTION, state__in=(ClockState.MET, ClockState.MISSED)
        )
        .order_by("-started_at", "-id")
        .first()
    )
    if clock is None:
        return
    clock.state = ClockState.PAUSED  # resumed just below if the new status runs clocks
    clock.stopped_at = None
    clock.save()
    _audit(clock, actor, "sla.clock_reopened")


def _active(ticket: Ticket, kinds: Iterable[str] | None = None) -> list[Clock]:
    clocks = ticket.sla_clocks.filter(state__in=ACTIVE_STATES).select_related("policy")
    if kinds is not None:
        clocks = clocks.filter(kind__in=list(kinds))
    return list(clocks)


def _save(clock: Clock, actor: User | None, verb: str) -> None:
    clock.save()
    _audit(clock, actor, verb)


def _audit(clock: Clock, actor: User | None, verb: str) -> None:
    record(
        actor=actor,
        verb=verb,
        target=clock,
        ticket=clock.ticket,
        after=clock_snapshot(clock),
    )


def clock_snapshot(clock: Clock) -> dict[str, Any]:
    return {
        "kind": clock.kind,
        "state": clock.state,
        "target_seconds": clock.target_seconds,
        "business": clock.business,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "breached_at": clock.breached_at.isoformat() if clock.breached_at else None,
    }
