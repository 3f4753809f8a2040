"""Work on many clocks at once: recomputing due times, and the warning/breach sweep.

* When a calendar, a team's calendar or a policy changes, every running clock it may
  affect gets new due and warning times: read in batches with what they need joined,
  computed in Python, written with ``bulk_update`` — a few queries per thousand
  clocks, never one per ticket. It runs as a background task after the change commits.
* :func:`sweep` finds running clocks whose warning or due time has passed, marks them
  (once), writes the audit event and notifies the assignee, or the team when nobody is
  assigned. The background worker runs it every ``SWEEP_INTERVAL`` seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.tasks import task
from django.utils import timezone

from quietdesk import events
from quietdesk.audit.services import record
from quietdesk.schedule.hours import BusinessHours
from quietdesk.schedule.models import Calendar
from quietdesk.schedule.services import business_hours, default_calendar
from quietdesk.sla.clocks import clock_snapshot, due_and_warning
from quietdesk.sla.models import Clock, ClockState
from quietdesk.tickets.models import Ticket

logger = logging.getLogger(__name__)

BATCH = 2000
SWEEP_INTERVAL = 30


def running_clocks() -> QuerySet[Clock]:
    return Clock.objects.filter(state=ClockState.RUNNING)


def affected_by_calendar(calendar_id: int | None) -> QuerySet[Clock]:
    """Running clocks whose business hours may come from that calendar.

    ``None`` (the default calendar changed, or a calendar was removed): every running
    business-hours clock.
    """
    clocks = running_clocks().filter(business=True)
    if calendar_id is None:
        return clocks
    return clocks.filter(
        Q(policy__calendar_id=calendar_id)
        | Q(policy__calendar__isnull=True, ticket__team__calendar_id=calendar_id)
        | Q(policy__calendar__isnull=True, ticket__team__calendar__isnull=True)
        | Q(policy__calendar__isnull=True, ticket__team__isnull=True)
    )


def recompute(clocks: QuerySet[Clock], *, progress: Callable[[int], None] | None = None) -> int:
    """New due and warning times for ``clocks`` (running ones); returns how many changed.

    Rows are read as tuples and written back with one prepared ``UPDATE`` per batch
    (``executemany``): building model instances and ``bulk_update``'s CASE expressions
    cost twenty times the arithmetic itself.
    """
    calendars: dict[int | None, BusinessHours] = {}

    def hours_of(calendar_id: int | None) -> BusinessHours:
        found = calendars.get(calendar_id)
        if found is None:
            calendar = (
                Calendar.objects.filter(pk=calendar_id).first() if calendar_id else None
            ) or default_calendar()
            found = calendars[calendar_id] = business_hours(calendar)
        return found

    table = connection.ops.quote_name(Clock._meta.db_table)
    # The WHERE clause repeats what the new times were computed from: a clock paused,
    # resumed or retargeted since it was read keeps what that change wrote.
    statement = (
        f"UPDATE {table} SET due_at = %s, warn_at = %s WHERE id = %s AND state = %s"  # noqa: S608
        " AND running_since = %s AND consumed_us = %s AND target_seconds = %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    changed = 0
    rows = clocks.filter(state=ClockState.RUNNING, running_since__isnull=False).values_list(
        "pk",
        "running_since",
        "consumed_us",
        "target_seconds",
        "warn_at_percent",
        "business",
        "due_at",
        "warn_at",
        "policy__calendar_id",
        "ticket__team__calendar_id",
        "ticket_id",
    )
    for batch in _batches(rows):
        updates = []
        touched: set[int] = set()
        for pk, since, consumed, target, percent, business, due, warn, own, team, ticket in batch:
            if since is None:
                continue  # excluded by the filter above; keeps the types honest
            new_due, new_warn = due_and_warning(
                running_since=since,
                consumed_us=consumed,
                target_seconds=target,
                warn_at_percent=percent,
                business=business,
                hours=hours_of(own or team),
            )
            if (new_due, new_warn) != (due, warn):
                updates.append(
                    (
                        adapt(new_due),
                        adapt(new_warn),
                        pk,
                        ClockState.RUNNING.value,
                        adapt(since),
                        consumed,
                        target,
                    )
                )
                touched.add(ticket)
        if updates:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(statement, updates)
            sync_ticket_due_times(touched)
        changed += len(updates)
        if progress is not None:
            progress(len(batch))
    return changed


def sync_ticket_due_times(ticket_ids: set[int]) -> None:
    """Set each ticket's ``due_at`` from its running clocks (see ``clocks.sync_due``).

    Runs after the current transaction commits, in transactions of its own: agents'
    changes lock a ticket before its clocks, so taking the tickets while holding clock
    locks could deadlock with them.
    """
    if not ticket_ids:
        return
    ids = sorted(ticket_ids)

    def sync() -> None:
        tickets = connection.ops.quote_name(Ticket._meta.db_table)
        clocks = connection.ops.quote_name(Clock._meta.db_table)
        statement = (
            f"UPDATE {tickets} SET due_at = (SELECT MIN(c.due_at) FROM {clocks} c"  # noqa: S608
            f" WHERE c.ticket_id = {tickets}.id AND c.state = %s) WHERE id = %s"
        )
        for start in range(0, len(ids), BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    statement, [(ClockState.RUNNING.value, t) for t in ids[start : start + BATCH]]
                )

    transaction.on_commit(sync)


def _batches[T](rows: QuerySet[Clock, T]) -> Iterator[list[T]]:
    """Keyset batches by id (the first value of each row, or the clock itself)."""
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield batch
        first = batch[-1]
        last = first[0] if isinstance(first, tuple) else first.pk  # type: ignore[attr-defined]


@task()
def recompute_for_calendar(calendar_id: int | None) -> int:
    count = recompute(affected_by_calendar(calendar_id))
    logger.info("Recomputed %d SLA clocks after a calendar change", count)
    return count


@events.subscribe("calendar.changed")
def _calendar_changed(event: events.Event) -> None:
    recompute_for_calendar.enqueue(event.payload.get("calendar_id"))


# --- Warnings and breaches --------------------------------------------------------------


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark the clocks that reached their warning or due time since the last sweep."""
    now = now or timezone.now()
    counts = {"warned": 0, "breached": 0}
    for verb, field, stamp, count in (
        ("sla.clock_warning", "warn_at", "warned_at", "warned"),
        ("sla.clock_breached", "due_at", "breached_at", "breached"),
    ):
        due = running_clocks().filter(**{f"{field}__lte": now, f"{stamp}__isnull": True})
        for candidates in _batches(due.only("pk")):
            with transaction.atomic():
                # Read again inside the write transaction: a clock met or paused since the
                # first read is no longer warned or breached.
                batch = list(
                    due.filter(pk__in=[c.pk for c in candidates])
                    .select_for_update(of=("self",))
                    .select_related("ticket", "ticket__assignee", "ticket__team")
                )
                if not batch:
                    continue
                for clock in batch:
                    setattr(clock, stamp, getattr(clock, field) if stamp == "breached_at" else now)
                Clock.objects.bulk_update(batch, [stamp])
                for clock in batch:
                    record(
                        actor=None,
                        verb=verb,
                        target=clock,
                        ticket=clock.ticket,
                        after=clock_snapshot(clock),
                    )
                    events.emit(verb, clock_id=clock.pk, ticket_id=clock.ticket_id)
            counts[count] += len(batch)
    return counts


@task()
def sweep_task() -> dict[str, int]:
    return sweep()
