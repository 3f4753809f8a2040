"""Fill an empty Quietdesk database with years of realistic helpdesk history, fast.

    PYTHONPATH=src .venv/bin/python bench/generate.py --tickets 10000

The database is the one the settings point at (``QUIETDESK_DATABASE_URL``, or
``QUIETDESK_DATA_DIR``); it is migrated first and must hold nobody yet.

Rows are written with ``bulk_create``, one transaction per batch of tickets, rather
than through the services (which would take an hour for 100,000 tickets), but they
are shaped the way the services write them: ticket numbers continue from the
``TicketCounter`` row, which ends at the highest number; each ticket's organisation
is its requester's; every person has a primary ``EmailAddress``; the first message
is the requester's reply on the ticket's channel; ``first_response_at``,
``last_message_at``, ``solved_at`` and ``closed_at`` follow the status machine.
Tickets are created oldest first, so ids grow with ``created_at``. The handful of
teams and staff go through the services; the generated history has no audit rows.
"""
# ruff: noqa: E402 - Django must be set up before the models are imported.

from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import os
import random
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

SRC_DIR = Path(__file__).resolve().parent.parent / "src"
if str(SRC_DIR) not in sys.path:
    sys.path.insert(0, str(SRC_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quietdesk.settings")

import django

django.setup()

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import EmailAddress, Organisation, Role, User
from quietdesk.tickets.html import sanitise_html
from quietdesk.tickets.models import (
    Channel,
    Message,
    MessageKind,
    Priority,
    Tag,
    Ticket,
    TicketCounter,
)
from quietdesk.tickets.states import Status

ADMIN_EMAIL = "admin@quietdesk.example"
STAFF_DOMAIN = "quietdesk.example"
BODY_MAX_BYTES = 20_000
DAY = 86_400.0

# --- Vocabulary ----------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = words(
    "Marie Louis Jane Paul Amina Chen Sofia Lucas Emma Noah Léa Hugo Chloé Jules Inès Arthur "
    "Zoé Gabriel Olivia Liam Mia Ethan Sara Adam Nora Omar Yuki Kenji Priya Ravi Ana Diego "
    "Lena Jonas Elif Mehmet Ingrid Lars Fatou Moussa Aoife Cian Marta Pablo Irina Dmitri Hana "
    "Tomás Camille Sam Alex Robin Charlie Morgan Sasha Kim Eva Max Julia Felix Clara Oscar"
)
LAST_NAMES = words(
    "Dubois Martin Cooper Petit Laurent Okafor Tanaka Garcia Müller Rossi Nguyen Kowalski "
    "Jensen Silva Bernard Moreau Fischer Schmidt Lefebvre Roux Fournier Girard Bonnet Dupont "
    "Lambert Fontaine Rousseau Vincent Muller Faure Andre Mercier Blanc Guerin Boyer Garnier "
    "Chevalier Francois Legrand Gauthier Perrin Robin Clement Morin Nicolas Henry Roussel "
    "Mathieu Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noel Meyer Dufour Meunier"
)
ORG_WORDS = words(
    "Boréal Northwind Lumière Atlas Cobalt Maple Harbour Summit Orchard Meridian Granite Tidal "
    "Aurora Cedar Falcon Juniper Kestrel Lantern Mosaic Nimbus Oak Pioneer Quartz River Saffron "
    "Terra Umber Vertex Willow Zephyr Amber Beacon Cascade Delta Ember Fjord Glacier Helix Indigo"
)
ORG_KINDS = words(
    "Studio Atelier Café Consulting Labs Foods Logistics Architects Partners Media Dental "
    "Clinic Bakery Outdoor Legal Travel Books Energy Robotics Design Print Fitness Garden"
)
FREE_MAIL_DOMAINS = ("mail.example", "post.example", "inbox.example", "webmail.example")
TIME_ZONES = (
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Montreal",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Africa/Dakar",
    "UTC",
)
TEAMS = (
    ("Support", "support", "Questions and problems from customers."),
    ("Billing", "billing", "Invoices, payments and contracts."),
    ("Projects", "projects", "Change requests on projects we run."),
    ("Hosting", "hosting", "Servers, domains, certificates and mail delivery."),
    ("Onboarding", "onboarding", "New customers in their first months."),
    ("Accounts", "accounts", "Renewals, upgrades and account managers."),
)
TAGS = words(
    "billing bug feature-request onboarding vip refund outage dns email invoice password sso "
    "mobile export integration api security gdpr slow how-to callback contract renewal "
    "migration backup ssl domain newsletter seo accessibility"
)
THINGS = (
    "the contact form",
    "our invoices",
    "the newsletter",
    "the shop checkout",
    "the mobile app",
    "the booking page",
    "single sign-on",
    "the staging site",
    "the monthly report",
    "our DNS records",
    "the SSL certificate",
    "the CSV export",
    "the search page",
    "the admin dashboard",
    "password resets",
    "the API key",
    "the product gallery",
    "our mailboxes",
    "the spring collection page",
    "the payment terminal",
)
SUBJECT_TEMPLATES = (
    "Problem with {thing}",
    "Question about {thing}",
    "{Thing} does not work any more",
    "{Thing} is very slow since yesterday",
    "Can you change {thing}?",
    "Error message on {thing}",
    "Request: update {thing}",
    "Urgent: {thing} is down",
    "Invoice {year}-{number} shows the wrong amount",
    "Access for a new colleague",
    "Follow-up on our call about {thing}",
    "Quote for changes to {thing}",
)
SENTENCE_TEMPLATES = (
    "Since {when}, {thing} shows an error when we {action}.",
    "Could you have a look at {thing} before {deadline}?",
    "We tried to {action} again but nothing happens.",
    "I have attached a screenshot of what we see on {thing}.",
    "Thanks for the quick answer, it works again on our side.",
    "The problem only happens in {browser}, not in the other browsers.",
    "I checked {thing} and found the cause: {cause}.",
    "I have changed the configuration of {thing}; please try again and tell us.",
    "Our customers keep asking about {thing}, so this matters to us.",
    "Can you tell us how long it will take to fix {thing}?",
    "We would also like to {action} every week if that is possible.",
    "This is not urgent, but it would help if it were done by {deadline}.",
    "I will call you {when} to go through {thing} together.",
    "The invoice for {thing} has been sent to the accounting address.",
    "Everything looks fine on our monitoring since the change.",
    "Let us know if anything still looks wrong after {deadline}.",
    "Our team could not reproduce it yet; could you send the exact time it happened?",
    "The logs show {cause} at the time you mentioned.",
    "Could you confirm that the billing address stays the same?",
    "We have planned the change for {deadline}, outside opening hours.",
)
WHEN = ("yesterday evening", "this morning", "last Monday", "the update", "two days ago")
ACTIONS = (
    "send the form",
    "log in",
    "export the orders",
    "pay by card",
    "upload a picture",
    "reset a password",
    "add a new user",
    "print the labels",
)
DEADLINES = ("Friday", "the end of the month", "next week", "tomorrow noon", "the launch")
BROWSERS = ("Safari", "Firefox", "Chrome on Android", "Edge", "the mobile app")
CAUSES = (
    "an expired certificate",
    "a full disk",
    "a wrong DNS record",
    "a changed SMTP password",
    "a plugin update",
    "a timeout on the payment provider",
    "a cache that was not cleared",
)
LOG_LINE = "{date} {level} worker-{n} request_id={rid} {path} took {ms} ms: {message}"
LOG_MESSAGES = (
    "upstream timed out",
    "connection reset by peer",
    "OK",
    "retrying in 5 s",
    "certificate verify failed",
    "slow query",
)

#: (minimum age in days, status weights): old tickets are closed, recent ones still moving.
STATUS_WEIGHTS_BY_AGE: tuple[tuple[float, dict[Status, float]], ...] = (
    (
        45,
        {
            Status.CLOSED: 96,
            Status.SOLVED: 1.5,
            Status.PENDING: 1,
            Status.ON_HOLD: 0.8,
            Status.OPEN: 0.7,
        },
    ),
    (
        7,
        {
            Status.CLOSED: 55,
            Status.SOLVED: 25,
            Status.PENDING: 8,
            Status.ON_HOLD: 4,
            Status.OPEN: 7,
            Status.NEW: 1,
        },
    ),
    (
        0,
        {
            Status.CLOSED: 8,
            Status.SOLVED: 30,
            Status.PENDING: 15,
            Status.ON_HOLD: 5,
            Status.OPEN: 25,
            Status.NEW: 17,
        },
    ),
)
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 55,
    Channel.PORTAL: 20,
    Channel.WEB_FORM: 10,
    Channel.CHAT: 8,
    Channel.PHONE: 5,
    Channel.API: 2,
}
#: The channel a customer's later replies arrive by, given the ticket's origin channel.
FOLLOW_UP_CHANNEL = {
    Channel.EMAIL: Channel.EMAIL,
    Channel.PORTAL: Channel.PORTAL,
    Channel.WEB_FORM: Channel.EMAIL,
    Channel.CHAT: Channel.PORTAL,
    Channel.PHONE: Channel.EMAIL,
    Channel.API: Channel.EMAIL,
}
PRIORITY_WEIGHTS = {Priority.NORMAL: 70, Priority.LOW: 12, Priority.HIGH: 14, Priority.URGENT: 4}
#: Messages per thread, 1 to 40, most 2 to 6.
THREAD_LENGTH_WEIGHTS = {
    **{1: 12, 2: 22, 3: 20, 4: 14, 5: 9, 6: 6, 7: 4, 8: 3, 9: 2, 10: 1.5},
    **dict.fromkeys(range(11, 21), 0.5),
    **dict.fromkeys(range(21, 41), 0.075),
}


def weighted[K](rng: random.Random, weights: Mapping[K, float]) -> K:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return slugify(plain)


# --- Text ------------------------------------------------------------------------------------


class Writer:
    """Subjects and message bodies: plausible sentences, sizes skewed small with a long tail."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = [self._sentence() for _ in range(4000)]
        self.log_lines = [self._log_line() for _ in range(2000)]

    def _sentence(self) -> str:
        template = self.rng.choice(SENTENCE_TEMPLATES)
        return template.format(
            when=self.rng.choice(WHEN),
            thing=self.rng.choice(THINGS),
            action=self.rng.choice(ACTIONS),
            deadline=self.rng.choice(DEADLINES),
            browser=self.rng.choice(BROWSERS),
            cause=self.rng.choice(CAUSES),
        )

    def subject(self, year: int) -> str:
        thing = self.rng.choice(THINGS)
        return self.rng.choice(SUBJECT_TEMPLATES).format(
            thing=thing,
            Thing=thing[0].upper() + thing[1:],
            year=year,
            number=self.rng.randint(1, 999),
        )

    def body_size(self) -> int:
        """Bytes: median ~550, a long tail of pasted logs up to the 20 KB ceiling."""
        if self.rng.random() < 0.02:
            return self.rng.randint(3_000, BODY_MAX_BYTES - 1_000)
        return int(min(max(self.rng.lognormvariate(math.log(550), 0.8), 180), 12_000))

    def body(self, *, to: str, signer: str, size: int) -> str:
        greeting = f"Hello {to.split()[0]}," if to else "Hello,"
        parts = [greeting]
        length = len(greeting)
        if size > 3_000 and self.rng.random() < 0.7:
            log = self._log(size - 400)
            parts.append("Here is what the server logged:\n\n" + log)
            length += len(log)
        while length < size - 40:
            paragraph = " ".join(self.rng.choices(self.sentences, k=self.rng.randint(1, 4)))
            parts.append(paragraph)
            length += len(paragraph) + 2
        parts.append(f"Best regards,\n{signer}")
        return "\n\n".join(parts)

    def _log(self, size: int) -> str:
        lines: list[str] = []
        length = 0
        while length < size:
            line = self.rng.choice(self.log_lines)
            lines.append(line)
            length += len(line) + 1
        return "\n".join(lines)

    def _log_line(self) -> str:
        rng = self.rng
        return LOG_LINE.format(
            date=f"2025-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
            level=rng.choice(("INFO", "WARNING", "ERROR")),
            n=rng.randint(1, 8),
            rid=rng.getrandbits(40),
            path=rng.choice(("/checkout", "/api/orders", "/login", "/contact")),
            ms=rng.randint(3, 30_000),
            message=rng.choice(LOG_MESSAGES),
        )

    @staticmethod
    def quote(body: str, *, author: str, when: dt.datetime, room: int) -> str:
        """The previous message quoted below a mail reply, cut to ``room`` characters."""
        header = f"\n\nOn {when:%d %b %Y at %H:%M}, {author} wrote:\n"
        quoted = "\n".join("> " + line for line in body.splitlines())
        return (header + quoted)[: max(room, 0)]

    @staticmethod
    def as_html(text: str) -> str:
        paragraphs = (html.escape(p).replace("\n", "<br>") for p in text.split("\n\n"))
        return sanitise_html("".join(f"<p>{p}</p>" for p in paragraphs))


# --- People ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    organisation_id: int | None = None


@dataclass(frozen=True)
class Staff:
    admin: Person
    teams: dict[int, list[Person]]  # team id -> its agents
    agents: list[Person]


def create_staff(rng: random.Random) -> Staff:
    """A few teams and their agents, through the services like an administrator would."""
    admin = accounts.create_staff(
        actor=None, email=ADMIN_EMAIL, name="Alex Admin", role=Role.ADMIN, time_zone="UTC"
    )
    teams = [
        accounts.create_team(actor=None, name=name, slug=slug, description=description)
        for name, slug, description in TEAMS[: rng.randint(4, 6)]
    ]
    members: dict[int, list[Person]] = {team.pk: [] for team in teams}
    agents: list[Person] = []
    used: set[str] = set()
    for index, team in enumerate(teams):
        for _ in range(rng.randint(3, 7)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = unique_email(f"{first}.{last}", STAFF_DOMAIN, used)
            # About one agent in four also works in the next team.
            extra = [teams[(index + 1) % len(teams)]] if rng.random() < 0.25 else []
            agent = accounts.create_staff(
                actor=None,
                email=email,
                name=f"{first} {last}",
                time_zone=rng.choice(TIME_ZONES),
                teams=[team, *extra],
            )
            person = Person(agent.pk, agent.name)
            agents.append(person)
            for joined in (team, *extra):
                members[joined.pk].append(person)
    return Staff(admin=Person(admin.pk, admin.name), teams=members, agents=agents)


def unique_email(local: str, domain: str, used: set[str]) -> str:
    base = ascii_slug(local.replace(".", "-")).replace("-", ".")
    address = f"{base}@{domain}"
    number = 1
    while address in used:
        number += 1
        address = f"{base}{number}@{domain}"
    used.add(address)
    return address


def create_customers(
    rng: random.Random, *, organisations: int, customers: int, joined_before: dt.datetime
) -> list[Person]:
    """Organisations of very different sizes, their contacts and some individuals."""
    names: set[str] = set()
    orgs: list[Organisation] = []
    next_org_id = (Organisation.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    while len(orgs) < organisations:
        name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)}"
        if name in names:
            name = f"{name} {rng.choice(ORG_WORDS)}"
        if name in names:
            continue
        names.add(name)
        orgs.append(
            Organisation(
                id=next_org_id + len(orgs),
                name=name,
                shares_tickets=rng.random() < 0.3,
                created_at=joined_before - dt.timedelta(days=rng.uniform(0, 700)),
            )
        )
    domains = {org.id: f"{ascii_slug(org.name)}.example" for org in orgs}
    # Pareto weights: a few organisations have most of the contacts.
    org_weights = list(accumulate(rng.paretovariate(1.2) for _ in orgs))

    used: set[str] = set(EmailAddress.objects.values_list("address", flat=True))
    next_user_id = (User.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    people: list[User] = []
    for index in range(customers):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        org = rng.choices(orgs, cum_weights=org_weights)[0] if rng.random() < 0.85 else None
        domain = domains[org.id] if org else rng.choice(FREE_MAIL_DOMAINS)
        people.append(
            User(
                id=next_user_id + index,
                email=unique_email(f"{first}.{last}", domain, used),
                name=f"{first} {last}",
                role=Role.CUSTOMER,
                organisation_id=org.id if org else None,
                time_zone=rng.choice(TIME_ZONES),
                language=rng.choice(("en", "en", "fr")),
                password=make_password(None),
                date_joined=joined_before - dt.timedelta(days=rng.uniform(0, 365)),
            )
        )
    with transaction.atomic():
        Organisation.objects.bulk_create(orgs)
        User.objects.bulk_create(people, batch_size=2_000)
        EmailAddress.objects.bulk_create(
            [EmailAddress(person_id=p.id, address=p.email, is_primary=True) for p in people],
            batch_size=5_000,
        )
    return [Person(p.id, p.name, p.organisation_id) for p in people]


# --- Tickets ---------------------------------------------------------------------------------


@dataclass
class Turn:
    """One message of a planned thread."""

    author: Person
    kind: MessageKind
    channel: Channel
    at: dt.datetime
    by_customer: bool


@dataclass
class Plan:
    turns: list[Turn]
    status: Status
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None


class History:
    """Plans ticket after ticket, oldest first, and writes them in batches."""

    def __init__(
        self,
        rng: random.Random,
        *,
        staff: Staff,
        customers: list[Person],
        tags: list[Tag],
        now: dt.datetime,
    ) -> None:
        self.rng = rng
        self.writer = Writer(rng)
        self.staff = staff
        self.customers = customers
        # Some customers write every week, most a few times in all.
        self.customer_weights = list(accumulate(rng.paretovariate(1.5) for _ in customers))
        self.tags = tags
        self.tag_weights = list(accumulate(1 / (rank + 1) for rank in range(len(tags))))
        self.team_ids = list(staff.teams)
        self.team_weights = list(accumulate(rng.uniform(0.5, 3) for _ in self.team_ids))
        self.now = now
        self.tickets = 0
        self.messages = 0
        self.body_bytes = 0
        self.statuses: Counter[str] = Counter()

    def write_batch(self, first_id: int, first_number: int, times: list[dt.datetime]) -> None:
        tickets: list[Ticket] = []
        messages: list[Message] = []
        tag_links: list[tuple[int, int]] = []
        for offset, created_at in enumerate(times):
            ticket, thread = self._ticket(first_id + offset, first_number + offset, created_at)
            tickets.append(ticket)
            messages += thread
            count = self.rng.choice((1, 1, 1, 2, 3)) if self.rng.random() < 0.4 else 0
            chosen = {
                tag.pk for tag in self.rng.choices(self.tags, cum_weights=self.tag_weights, k=count)
            }
            tag_links += [(ticket.pk, tag_id) for tag_id in chosen]
        through = Ticket.tags.through
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            Message.objects.bulk_create(messages)
            through.objects.bulk_create(
                [through(ticket_id=ticket_id, tag_id=tag_id) for ticket_id, tag_id in tag_links]
            )
        self.tickets += len(tickets)
        self.messages += len(messages)

    def _ticket(
        self, ticket_id: int, number: int, created_at: dt.datetime
    ) -> tuple[Ticket, list[Message]]:
        rng = self.rng
        requester = rng.choices(self.customers, cum_weights=self.customer_weights)[0]
        age_days = (self.now - created_at).total_seconds() / DAY
        status_weights = next(w for age, w in STATUS_WEIGHTS_BY_AGE if age_days >= age)
        status = weighted(rng, status_weights)
        channel = weighted(rng, CHANNEL_WEIGHTS)
        # New tickets are often still in triage, without a team.
        team_id: int | None = None
        if rng.random() > (0.6 if status == Status.NEW else 0.02):
            team_id = rng.choices(self.team_ids, cum_weights=self.team_weights)[0]
        agents = self.staff.teams[team_id] if team_id else self.staff.agents
        assignee: Person | None = None
        if status != Status.NEW or rng.random() < 0.3:
            assignee = rng.choice(agents) if rng.random() < 0.97 else self.staff.admin

        plan = self._plan_thread(
            status=status,
            requester=requester,
            agents=agents,
            assignee=assignee,
            channel=channel,
            created_at=created_at,
        )
        turns, status = plan.turns, plan.status
        messages = self._write_thread(ticket_id, turns, requester)
        first_response_at = next(
            (
                t.at
                for t in turns
                if not t.by_customer and t.kind == MessageKind.REPLY and t.author != requester
            ),
            None,
        )
        last_public = max(t.at for t in turns if t.kind != MessageKind.NOTE)
        updated_at = max(turns[-1].at, plan.solved_at or created_at, plan.closed_at or created_at)
        self.statuses[status] += 1
        ticket = Ticket(
            id=ticket_id,
            number=number,
            subject=self.writer.subject(created_at.year),
            status=status,
            priority=weighted(rng, PRIORITY_WEIGHTS),
            channel=channel,
            requester_id=requester.id,
            organisation_id=requester.organisation_id,
            team_id=team_id,
            assignee_id=assignee.id if assignee else None,
            created_at=created_at,
            updated_at=updated_at,
            last_message_at=last_public,
            first_response_at=first_response_at,
            solved_at=plan.solved_at,
            closed_at=plan.closed_at,
        )
        return ticket, messages

    def _plan_thread(
        self,
        *,
        status: Status,
        requester: Person,
        agents: list[Person],
        assignee: Person | None,
        channel: Channel,
        created_at: dt.datetime,
    ) -> Plan:
        """Who writes when, respecting the status machine; times squeezed to end before now."""
        rng = self.rng
        length = weighted(rng, THREAD_LENGTH_WEIGHTS)
        if status == Status.NEW:
            # Nobody from the team has answered: only the customer (and perhaps a note).
            roles = ["customer"] * min(length, rng.choice((1, 1, 1, 2)))
            if rng.random() < 0.15:
                roles.append("note")
        elif status in (Status.SOLVED, Status.CLOSED) and length == 1 and rng.random() < 0.5:
            roles = ["customer"]  # solved without a reply: spam, duplicates, "thanks!"
        else:
            roles = ["customer"]
            for _ in range(max(length, 2) - 1):
                previous = roles[-1]
                if previous == "customer":
                    roles.append("note" if rng.random() < 0.12 else "agent")
                else:
                    roles.append("customer" if rng.random() < 0.75 else "agent")
            if "agent" not in roles:
                roles[roles.index("note")] = "agent"
            if status in (Status.PENDING, Status.SOLVED, Status.CLOSED) and roles[-1] != "agent":
                roles[-1] = "agent"  # the team spoke last: waiting on the customer, or done

        # Gaps in seconds: the team answers within hours, customers within a day or so.
        gaps: list[float] = []
        for previous, role in zip(["start", *roles], roles, strict=False):
            if previous == "start":
                gaps.append(0.0)
            elif role == "customer":
                gaps.append(rng.lognormvariate(math.log(8 * 3600), 1.2))
            elif previous == "customer":
                gaps.append(rng.lognormvariate(math.log(3 * 3600), 1.2))
            else:
                gaps.append(rng.lognormvariate(math.log(1200), 1.0))
        solve_gap = rng.lognormvariate(math.log(1800), 1.0)
        close_gap = rng.uniform(4, 5) * DAY  # closed automatically some days after solving
        available = (self.now - created_at).total_seconds() - 60
        if status == Status.CLOSED and sum(gaps) + solve_gap + close_gap > available:
            status = Status.SOLVED  # too recent to have been closed yet
        closing = {Status.SOLVED: [solve_gap], Status.CLOSED: [solve_gap, close_gap]}.get(
            status, []
        )
        total = sum(gaps) + sum(closing)
        squeeze = min(1.0, available / total) if total > 0 else 1.0

        at = created_at
        turns: list[Turn] = []
        follow_up = FOLLOW_UP_CHANNEL[channel]
        for index, (role, gap) in enumerate(zip(roles, gaps, strict=True)):
            at += dt.timedelta(seconds=gap * squeeze)
            if role == "customer":
                turns.append(
                    Turn(
                        requester, MessageKind.REPLY, channel if index == 0 else follow_up, at, True
                    )
                )
                continue
            author = assignee if assignee and rng.random() < 0.85 else rng.choice(agents)
            if role == "note":
                kind = MessageKind.NOTE
                via = Channel.WEB
            elif channel == Channel.PHONE and rng.random() < 0.5:
                kind, via = MessageKind.CALL, Channel.PHONE
            else:
                kind, via = MessageKind.REPLY, Channel.WEB
            turns.append(Turn(author, kind, via, at, False))
        solved_at = closed_at = None
        if closing:
            solved_at = at + dt.timedelta(seconds=closing[0] * squeeze)
        if len(closing) > 1 and solved_at is not None:
            closed_at = solved_at + dt.timedelta(seconds=closing[1] * squeeze)
        return Plan(turns, status, solved_at, closed_at)

    def _write_thread(self, ticket_id: int, turns: list[Turn], requester: Person) -> list[Message]:
        messages: list[Message] = []
        previous: tuple[Turn, str] | None = None
        for turn in turns:
            size = self.writer.body_size()
            to = "" if turn.by_customer else requester.name
            if turn.kind == MessageKind.NOTE:
                to = ""
            body = self.writer.body(to=to, signer=turn.author.name, size=size)
            body_html = ""
            if turn.channel == Channel.EMAIL and turn.by_customer:
                if previous and self.rng.random() < 0.5:
                    prior, prior_body = previous
                    body += self.writer.quote(
                        prior_body,
                        author=prior.author.name,
                        when=prior.at,
                        room=BODY_MAX_BYTES - len(body),
                    )
                if self.rng.random() < 0.3:
                    body_html = self.writer.as_html(body)
            messages.append(
                Message(
                    ticket_id=ticket_id,
                    kind=turn.kind,
                    author_id=turn.author.id,
                    body_text=body,
                    body_html=body_html,
                    channel=turn.channel,
                    created_at=turn.at,
                )
            )
            if turn.kind != MessageKind.NOTE:
                previous = (turn, body)
            self.body_bytes += len(body) + len(body_html)
        return messages


# --- Putting it together ---------------------------------------------------------------------


def creation_times(
    rng: random.Random, count: int, *, now: dt.datetime, years: float
) -> list[dt.datetime]:
    """Sorted times over ``years``; the business grows, so recent months hold more tickets."""
    span = years * 365 * DAY
    start = now - dt.timedelta(seconds=span)
    # Density rising linearly with time: inverse CDF of a triangle is sqrt(u).
    offsets = sorted(span * math.sqrt(rng.random()) for _ in range(count))
    return [start + dt.timedelta(seconds=min(o, span - 3600)) for o in offsets]


def database_bytes() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(settings.DATABASES["default"]["NAME"])
        files = [path, path.with_name(path.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists())
    return 0


def generate(*, tickets: int, seed: int, years: float, batch: int, console: Console) -> None:
    rng = random.Random(seed)
    now = timezone.now()
    times = creation_times(rng, tickets, now=now, years=years)
    started = time.perf_counter()

    staff = create_staff(rng)
    customers = create_customers(
        rng,
        organisations=max(1, round(tickets / 200)),
        customers=max(1, round(tickets / 20)),
        joined_before=times[0] if times else now,
    )
    Tag.objects.bulk_create([Tag(name=name) for name in TAGS], ignore_conflicts=True)
    tags = list(Tag.objects.filter(name__in=TAGS).order_by("name"))
    rng.shuffle(tags)  # popularity order

    counter, _created = TicketCounter.objects.get_or_create(id=1, defaults={"value": 1000})
    first_number = counter.value + 1
    first_id = (Ticket.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    history = History(rng, staff=staff, customers=customers, tags=tags, now=now)

    with Progress(
        TextColumn("[bold]tickets"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[messages]:,} messages"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("tickets", total=tickets, messages=0)
        for start in range(0, tickets, batch):
            chunk = times[start : start + batch]
            history.write_batch(first_id + start, first_number + start, chunk)
            progress.update(task, advance=len(chunk), messages=history.messages)

    with transaction.atomic():
        last_number = Ticket.objects.aggregate(m=Max("number"))["m"] or counter.value
        TicketCounter.objects.filter(id=1).update(value=last_number)
        # Explicit ids leave PostgreSQL's sequences behind; SQLite needs nothing.
        sequences = connection.ops.sequence_reset_sql(
            no_style(), [Organisation, User, Ticket, Message]
        )
        with connection.cursor() as cursor:
            for sql in sequences:
                cursor.execute(sql)
    if connection.vendor in ("sqlite", "postgresql"):
        # Planner statistics, as a live database keeps them (ANALYZE after migrate,
        # PRAGMA optimize as connections close): without them SQLite plans scoped
        # lists as if the tables were empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    seconds = time.perf_counter() - started
    report(history, staff=staff, customers=customers, seconds=seconds, console=console)


def report(
    history: History, *, staff: Staff, customers: list[Person], seconds: float, console: Console
) -> None:
    table = Table(title="Generated dataset", show_header=False)
    table.add_row("tickets", f"{history.tickets:,}")
    table.add_row("messages", f"{history.messages:,}")
    if history.tickets:
        table.add_row("messages per ticket", f"{history.messages / history.tickets:.1f}")
    if history.messages:
        table.add_row("mean body size", f"{history.body_bytes / history.messages:,.0f} bytes")
    table.add_row("customers", f"{len(customers):,}")
    table.add_row("organisations", f"{Organisation.objects.count():,}")
    table.add_row("teams / agents", f"{len(staff.teams)} / {len(staff.agents)}")
    mix = ", ".join(
        f"{status} {count / max(history.tickets, 1):.1%}"
        for status, count in history.statuses.most_common()
    )
    table.add_row("statuses", mix)
    table.add_row("database size", f"{database_bytes() / 1e6:,.1f} MB")
    table.add_row("time", f"{seconds:.1f} s")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, required=True, help="how many tickets to create")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    parser.add_argument("--years", type=float, default=4.0, help="history spans this many years")
    parser.add_argument("--batch", type=int, default=1_000, help="tickets per transaction")
    args = parser.parse_args(argv)
    console = Console()
    if args.tickets < 0 or args.batch < 1:
        parser.error("--tickets must be >= 0 and --batch >= 1")
    call_command("migrate", interactive=False, verbosity=0)
    if User.objects.exists():
        console.print(
            "[red]The database already has people in it; generate into an empty one.[/red] "
            f"({settings.DATABASES['default']['NAME']})"
        )
        return 1
    generate(
        tickets=args.tickets, seed=args.seed, years=args.years, batch=args.batch, console=console
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
