"""Business-hours arithmetic and SLA recomputation, measured.

    .venv/bin/python bench/sla_bench.py                 # defaults: 10,000 then 100,000 tickets
    .venv/bin/python bench/sla_bench.py --sizes 1000    # a quick look

Two measurements:

1. **Due time**: ``BusinessHours.add(t, 24 business hours)`` on a Paris office calendar
   (Monday to Friday, 09:00–12:30 and 13:30–18:00) with a holiday every week and French
   public holidays, for random start instants spread over ``--years`` years. Reported with
   the calendar's day cache warm (the normal case: one calendar object per process serves
   every ticket) and cold (a new calendar object for every call), at two spreads of start
   instants to show that the cost does not grow with the number of days seen.
2. **Recompute**: the background task that runs after a calendar change, over N open
   tickets with two running business-hours clocks each (first response and resolution),
   on a fresh SQLite database under ``var/bench/sla/``; sizes grow in the same database.
"""
# ruff: noqa: E402 - Django must be set up before the models are imported.

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = ROOT / "src"
DATA = ROOT / "var" / "bench" / "sla"
if str(SRC_DIR) not in sys.path:
    sys.path.insert(0, str(SRC_DIR))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="open tickets, comma-separated")
    parser.add_argument("--calls", type=int, default=20000, help="due-time computations")
    parser.add_argument("--years", type=float, default=5)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


ARGS = parse_args()
shutil.rmtree(DATA, ignore_errors=True)
DATA.mkdir(parents=True)
os.environ.update(
    DJANGO_SETTINGS_MODULE="quietdesk.settings",
    QUIETDESK_DATA_DIR=str(DATA),
    QUIETDESK_LOG_LEVEL="WARNING",
)
os.environ.pop("QUIETDESK_DATABASE_URL", None)

import django

django.setup()

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import Role
from quietdesk.schedule import services as schedule
from quietdesk.schedule.hours import BusinessHours, Opening
from quietdesk.sla import recompute
from quietdesk.sla import services as sla
from quietdesk.sla.models import Clock, ClockKind, ClockState
from quietdesk.tickets.models import Ticket, TicketCounter

console = Console()
PARIS_HOURS = [
    Opening(day, start, end)
    for day in range(5)
    for start, end in ((dt.time(9), dt.time(12, 30)), (dt.time(13, 30), dt.time(18)))
]


def weekly_holiday(day: dt.date) -> bool:
    return day.weekday() == 2  # every Wednesday, on top of the public holidays


def office() -> BusinessHours:
    public = schedule._holiday_test("FR", "")
    return BusinessHours(
        "Europe/Paris", PARIS_HOURS, is_holiday=lambda d: weekly_holiday(d) or public(d)
    )


def due_time_figures(calls: int, years: float, rng: random.Random) -> list[list[str]]:
    rows = []
    origin = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    target = dt.timedelta(hours=24)
    for spread in (years / 10, years):
        span = spread * 365 * 86400
        starts = [origin + dt.timedelta(seconds=rng.random() * span) for _ in range(calls)]
        hours = office()
        for start in starts[:2000]:
            hours.add(start, target)  # warm the day cache as a running server would
        timings = []
        for start in starts:
            t0 = time.perf_counter_ns()
            hours.add(start, target)
            timings.append(time.perf_counter_ns() - t0)
        cold = []
        for start in starts[:2000]:
            t0 = time.perf_counter_ns()
            office().add(start, target)
            cold.append(time.perf_counter_ns() - t0)
        rows.append(
            [
                f"{spread:g} years",
                f"{calls:,}",
                f"{statistics.median(timings) / 1000:.1f}",
                f"{statistics.quantiles(timings, n=100)[98] / 1000:.1f}",
                f"{statistics.median(cold) / 1000:.1f}",
            ]
        )
    return rows


def fill(total: int, progress: Progress) -> None:
    """Add open tickets with running clocks until there are ``total``."""
    have = Ticket.objects.count()
    if have >= total:
        return
    if have == 0:
        admin = accounts.create_staff(
            actor=None, email="admin@bench.example", name="Admin", role=Role.ADMIN
        )
        team = accounts.create_team(actor=admin, name="Support", slug="support")
        data = schedule.CalendarIn(
            name="Paris office",
            time_zone="Europe/Paris",
            holiday_country="FR",
            openings=PARIS_HOURS,
            special_days=[
                schedule.SpecialDayIn(date=dt.date(2026, 1, 7) + dt.timedelta(weeks=w))
                for w in range(52)
            ],
        )
        calendar = schedule.save_calendar(actor=admin, data=data)
        schedule.set_team_calendar(actor=admin, team=team, calendar=calendar)
        sla.save_policy(
            actor=admin,
            data=sla.PolicyIn(
                name="Standard",
                targets={"first_response": (4 * 3600, True), "resolution": (24 * 3600, True)},
            ),
        )
    from quietdesk.accounts.models import Team, User
    from quietdesk.sla.models import Policy

    team = Team.objects.get(slug="support")
    policy = Policy.objects.get()
    customer = User.objects.filter(role=Role.CUSTOMER).first() or accounts.create_contact(
        actor=None, email="customer@bench.example"
    )
    task = progress.add_task(f"tickets to {total:,}", total=total - have)
    now = timezone.now()
    rng = random.Random(total)
    number = TicketCounter.objects.get(id=1).value
    batch = 5000
    for start in range(have, total, batch):
        size = min(batch, total - start)
        with transaction.atomic():
            created = [now - dt.timedelta(seconds=rng.randint(0, 30 * 86400)) for _ in range(size)]
            tickets = Ticket.objects.bulk_create(
                Ticket(
                    number=number + i + 1,
                    subject="Benchmark",
                    channel="email",
                    requester=customer,
                    team=team,
                    sla_policy=policy,
                    created_at=when,
                    updated_at=when,
                    last_message_at=when,
                )
                for i, when in enumerate(created)
            )
            number += size
            Clock.objects.bulk_create(
                Clock(
                    ticket=ticket,
                    policy=policy,
                    kind=kind,
                    state=ClockState.RUNNING,
                    target_seconds=seconds,
                    started_at=ticket.created_at,
                    running_since=ticket.created_at,
                )
                for ticket in tickets
                for kind, seconds in (
                    (ClockKind.FIRST_RESPONSE, 4 * 3600),
                    (ClockKind.RESOLUTION, 24 * 3600),
                )
            )
            TicketCounter.objects.filter(id=1).update(value=number)
        progress.advance(task, size)


def main() -> int:
    rng = random.Random(ARGS.seed)
    console.print(
        f"[bold]SLA benchmark[/bold] on {platform.node()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    table = Table(title="Due time: add 24 business hours (Paris office, a holiday every week)")
    for column in (
        "start instants over",
        "calls",
        "warm median µs",
        "warm p99 µs",
        "cold median µs",
    ):
        table.add_column(column, justify="right")
    for row in due_time_figures(ARGS.calls, ARGS.years, rng):
        table.add_row(*row)
    console.print(table)

    call_command("migrate", verbosity=0)
    results = Table(title="Recompute every running clock after a calendar change (SQLite)")
    for column in ("open tickets", "clocks", "seconds", "µs per clock", "changed"):
        results.add_column(column, justify="right")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    for size in (int(s) for s in ARGS.sizes.split(",")):
        with Progress(*columns, console=console) as progress:
            fill(size, progress)
            clocks = recompute.affected_by_calendar(None)
            count = clocks.count()
            # Start from stale due times, as after a change of opening hours.
            Clock.objects.update(due_at=None, warn_at=None)
            schedule._cache.clear()
            task = progress.add_task(f"recompute {count:,} clocks", total=count)
            t0 = time.perf_counter()
            changed = recompute.recompute(
                clocks, progress=lambda n, task=task: progress.advance(task, n)
            )
            seconds = time.perf_counter() - t0
        results.add_row(
            f"{size:,}",
            f"{count:,}",
            f"{seconds:.1f}",
            f"{seconds / count * 1e6:.0f}",
            f"{changed:,}",
        )
    console.print(results)
    size_mb = sum(p.stat().st_size for p in DATA.glob("*.sqlite3*")) / 1e6
    console.print(f"Database: {size_mb:.0f} MB under {DATA.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
