"""Who gets which status from every API operation: the permission rules of
``quietdesk.access`` written out as tables, one cell per test.

Each table below is written by hand from the rules documented at the top of
``access.py`` (never computed by calling it): no credentials answer 401; an object
the actor may not see answers 404, exactly as if it did not exist; one they see but
may not change answers 403; only a request that passes both is refused for what it asks
(409, 422). Bodies are valid unless a row says otherwise, so a status reflects the
permission. Refused writes must leave the database as it was.

The people (roles) and their relation to the tickets (cases):

* ``customer`` and ``colleague`` belong to Acme, which shares tickets;
* ``outsider`` belongs to Globex, which does not share tickets; the Globex tickets
  below were opened by another Globex contact;
* ``cc_customer`` belongs to Initech (sharing, but with no tickets here) and is only
  copied on the ``copied_on`` ticket;
* ``team_agent`` is in Support, the team of every ticket that has one;
* ``other_agent`` is in Billing; ``all_teams_agent`` is in Billing too but has
  ``sees_all_teams``; ``admin`` is an administrator.

Cases: ``own`` (opened by ``customer``), ``colleagues`` (opened by ``colleague``),
``other_org`` (a Globex ticket), ``no_team`` (opened by ``colleague``, not yet given
to a team), ``copied_on`` (a Globex ticket ``cc_customer`` is copied on), and
``missing`` (an id no ticket has). Every ticket carries a reply with an attachment
and an internal note with an attachment.

The installation is built once for the module; each test runs in a transaction
that is rolled back, so writes in one cell never leak into another.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from quietdesk.accounts.models import EmailAddress, Organisation, Team, User
from quietdesk.accounts.services import create_api_token
from quietdesk.api.main import api
from quietdesk.audit.models import AuditEvent
from quietdesk.notifications.models import Notification
from quietdesk.schedule import services as schedule_services
from quietdesk.schedule.models import Calendar
from quietdesk.sla import services as sla_services
from quietdesk.sla.models import Policy
from quietdesk.tickets import services
from quietdesk.tickets.files import InMemoryUpload
from quietdesk.tickets.models import Attachment, Message, Tag, Ticket
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "customer",
    "colleague",
    "outsider",
    "cc_customer",
    "team_agent",
    "other_agent",
    "all_teams_agent",
    "admin",
)
CUSTOMER_ROLES = ("customer", "colleague", "outsider", "cc_customer")
STAFF_ROLES = ("team_agent", "other_agent", "all_teams_agent", "admin")
CASES = ("own", "colleagues", "other_org", "no_team", "copied_on", "missing")
TICKET_CASES = CASES[:-1]
MISSING_ID = "NoSuchThing12345"

# Short column names of the role table, in the order of ROLES.
ROLE_COLUMNS = ("anon", "cust", "coll", "outs", "cc", "team", "other", "all", "admin")


def ticket_table(text: str) -> dict[tuple[str, str], int]:
    """Parse a table with a row per role and a column per case into {(role, case): status}."""
    header, *rows = (line.split() for line in text.strip().splitlines())
    assert tuple(header) == CASES, header
    assert tuple(row[0] for row in rows) == ROLES, [row[0] for row in rows]
    return {
        (row[0], case): int(status)
        for row in rows
        for case, status in zip(CASES, row[1:], strict=True)
    }


def role_table(text: str) -> dict[str, dict[str, int]]:
    """Parse a table with a row per operation and a column per role into {name: {role: status}}."""
    header, *lines = text.strip().splitlines()
    assert tuple(header.split()) == ROLE_COLUMNS, header
    table: dict[str, dict[str, int]] = {}
    for line in lines:
        parts = line.split()
        name, statuses = " ".join(parts[: -len(ROLES)]), parts[-len(ROLES) :]
        table[name] = {role: int(status) for role, status in zip(ROLES, statuses, strict=True)}
    return table


# --- The expected statuses ---------------------------------------------------------------

# Reading a ticket, its thread, or an attachment of a public reply.
SEE = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         200  200         404        200      404        404
colleague        200  200         404        200      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      200        404
team_agent       200  200         200        200      200        404
other_agent      404  404         404        200      404        404
all_teams_agent  200  200         200        200      200        404
admin            200  200         200        200      200        404
""")

# Staff-only reads and changes (audit trail, priority, team, assignee): a customer who
# sees the ticket is refused; one who does not see it is told it does not exist.
STAFF_ONLY = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         403  403         404        403      404        404
colleague        403  403         404        403      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      403        404
team_agent       200  200         200        200      200        404
other_agent      404  404         404        200      404        404
all_teams_agent  200  200         200        200      200        404
admin            200  200         200        200      200        404
""")

# An attachment of an internal note does not exist for customers, even on their tickets.
NOTE_ATTACHMENT = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         404  404         404        404      404        404
colleague        404  404         404        404      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      404        404
team_agent       200  200         200        200      200        404
other_agent      404  404         404        200      404        404
all_teams_agent  200  200         200        200      200        404
admin            200  200         200        200      200        404
""")

# Marking a ticket solved: customers only their own requests (``no_team`` is the
# colleague's), staff any ticket they see.
SOLVE = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         200  403         404        403      404        404
colleague        403  200         404        200      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      403        404
team_agent       200  200         200        200      200        404
other_agent      404  404         404        200      404        404
all_teams_agent  200  200         200        200      200        404
admin            200  200         200        200      200        404
""")

# Closing a new ticket skips "solved", which the status machine refuses (409), but only
# once the reader has passed the visibility (404) and permission (403) checks.
CLOSE_NEW = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         403  403         404        403      404        404
colleague        403  403         404        403      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      403        404
team_agent       409  409         409        409      409        404
other_agent      404  404         404        409      404        404
all_teams_agent  409  409         409        409      409        404
admin            409  409         409        409      409        404
""")

# Assigning a customer: invalid (422) for staff who may manage the ticket, refused or
# hidden for everyone else, in that order.
ASSIGN_CUSTOMER = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         403  403         404        403      404        404
colleague        403  403         404        403      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      403        404
team_agent       422  422         422        422      422        404
other_agent      404  404         404        422      404        404
all_teams_agent  422  422         422        422      422        404
admin            422  422         422        422      422        404
""")

# A public reply: anyone who sees the ticket.
REPLY = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         201  201         404        201      404        404
colleague        201  201         404        201      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      201        404
team_agent       201  201         201        201      201        404
other_agent      404  404         404        201      404        404
all_teams_agent  201  201         201        201      201        404
admin            201  201         201        201      201        404
""")

# An internal note or a call log: staff only.
NOTE = ticket_table("""
                 own  colleagues  other_org  no_team  copied_on  missing
anonymous        401  401         401        401      401        401
customer         403  403         404        403      404        404
colleague        403  403         404        403      404        404
outsider         404  404         404        404      404        404
cc_customer      404  404         404        404      403        404
team_agent       201  201         201        201      201        404
other_agent      404  404         404        201      404        404
all_teams_agent  201  201         201        201      201        404
admin            201  201         201        201      201        404
""")

# Operations that do not address a ticket. Targets: the ``customer`` contact, the Acme
# organisation, the Support team. Only admins create teams; staff create contacts and
# organisations and open tickets with tags or for someone else.
BY_ROLE = role_table("""
                                        anon cust coll outs cc   team other all  admin
list tickets                            401  200  200  200  200  200  200   200  200
open a ticket                           401  201  201  201  201  201  201   201  201
open a ticket with tags                 401  403  403  403  403  201  201   201  201
open a ticket for an address            401  403  403  403  403  201  201   201  201
list contacts                           401  200  200  200  200  200  200   200  200
add a contact                           401  403  403  403  403  201  201   201  201
read a contact                          401  200  404  404  404  200  200   200  200
list organisations                      401  200  200  200  200  200  200   200  200
add an organisation                     401  403  403  403  403  201  201   201  201
read an organisation                    401  200  200  404  404  200  200   200  200
list teams                              401  403  403  403  403  200  200   200  200
add a team                              401  403  403  403  403  403  403   403  201
read a team                             401  403  403  403  403  200  200   200  200
who am I                                401  200  200  200  200  200  200   200  200
list calendars                          401  403  403  403  403  200  200   200  200
add a calendar                          401  403  403  403  403  403  403   403  201
read a calendar                         401  403  403  403  403  200  200   200  200
replace a calendar                      401  403  403  403  403  403  403   403  200
delete a calendar                       401  403  403  403  403  403  403   403  204
choose a team's calendar                401  403  403  403  403  403  403   403  200
list SLA policies                       401  403  403  403  403  200  200   200  200
add an SLA policy                       401  403  403  403  403  403  403   403  201
read an SLA policy                      401  403  403  403  403  200  200   200  200
replace an SLA policy                   401  403  403  403  403  403  403   403  200
delete an SLA policy                    401  403  403  403  403  403  403   403  204
SLA attainment report                   401  403  403  403  403  200  200   200  200
response times report                   401  403  403  403  403  200  200   200  200
list my notifications                   401  200  200  200  200  200  200   200  200
mark a notification read                401  404  404  404  404  200  404   404  404
search                                  401  200  200  200  200  200  200   200  200
""")


# --- The operations --------------------------------------------------------------------------

TICKET = "/api/v1/tickets/{ticket_id}"
MESSAGES = "/api/v1/tickets/{ticket_id}/messages"
ATTACHMENT = "/api/v1/attachments/{attachment_id}"
CALENDAR = "/api/v1/calendars/{calendar_id}"
POLICY = "/api/v1/sla/policies/{policy_id}"
PERIOD = "?start=2021-01-01&end=2030-12-31"


def calendar_body(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "time_zone": "Europe/Paris",
        "openings": [{"weekday": "monday", "start": "09:00", "end": "17:00"}],
    }


@dataclass(frozen=True)
class Call:
    """One request of the matrix; ``path`` is the operation's path in the OpenAPI document."""

    name: str
    method: str
    path: str
    body: Callable[[Installation], dict[str, Any]] | None = None
    attachment: str = "reply"  # which attachment of the case's ticket {attachment_id} means
    query: str = ""

    @property
    def operation(self) -> tuple[str, str]:
        return (self.method, self.path)


TICKET_CALLS: list[tuple[Call, dict[tuple[str, str], int]]] = [
    (Call("read the ticket", "GET", TICKET), SEE),
    (Call("list the messages", "GET", MESSAGES), SEE),
    (Call("download a reply's attachment", "GET", ATTACHMENT), SEE),
    (Call("download a note's attachment", "GET", ATTACHMENT, attachment="note"), NOTE_ATTACHMENT),
    (Call("read the audit trail", "GET", "/api/v1/tickets/{ticket_id}/events"), STAFF_ONLY),
    (Call("change the priority", "PATCH", TICKET, lambda w: {"priority": "high"}), STAFF_ONLY),
    (Call("move to another team", "PATCH", TICKET, lambda w: {"team": "billing"}), STAFF_ONLY),
    (
        Call("assign to an admin", "PATCH", TICKET, lambda w: {"assignee": w.admin.public_id}),
        STAFF_ONLY,
    ),
    (Call("mark solved", "PATCH", TICKET, lambda w: {"status": "solved"}), SOLVE),
    (Call("close a new ticket", "PATCH", TICKET, lambda w: {"status": "closed"}), CLOSE_NEW),
    (
        Call(
            "assign to a customer",
            "PATCH",
            TICKET,
            lambda w: {"assignee": w.world.customer.public_id},
        ),
        ASSIGN_CUSTOMER,
    ),
    (Call("reply", "POST", MESSAGES, lambda w: {"body": "Any news?"}), REPLY),
    (
        Call("add an internal note", "POST", MESSAGES, lambda w: {"body": "Hm", "kind": "note"}),
        NOTE,
    ),
    (Call("log a call", "POST", MESSAGES, lambda w: {"body": "Rang", "kind": "call"}), NOTE),
]

ROLE_CALLS: list[Call] = [
    Call("list tickets", "GET", "/api/v1/tickets"),
    Call("open a ticket", "POST", "/api/v1/tickets", lambda w: {"subject": "Help", "body": "Hi"}),
    Call(
        "open a ticket with tags",
        "POST",
        "/api/v1/tickets",
        lambda w: {"subject": "Help", "body": "Hi", "tags": ["vip"]},
    ),
    Call(
        "open a ticket for an address",
        "POST",
        "/api/v1/tickets",
        lambda w: {"subject": "Call back", "body": "Rang", "requester_email": "new@example.org"},
    ),
    Call("list contacts", "GET", "/api/v1/contacts"),
    Call("add a contact", "POST", "/api/v1/contacts", lambda w: {"email": "new@example.org"}),
    Call("read a contact", "GET", "/api/v1/contacts/{contact_id}"),
    Call("list organisations", "GET", "/api/v1/organisations"),
    Call("add an organisation", "POST", "/api/v1/organisations", lambda w: {"name": "Umbrella"}),
    Call("read an organisation", "GET", "/api/v1/organisations/{organisation_id}"),
    Call("list teams", "GET", "/api/v1/teams"),
    Call("add a team", "POST", "/api/v1/teams", lambda w: {"name": "Sales"}),
    Call("read a team", "GET", "/api/v1/teams/{team_id}"),
    Call("who am I", "GET", "/api/v1/me"),
    Call("list calendars", "GET", "/api/v1/calendars"),
    Call("add a calendar", "POST", "/api/v1/calendars", lambda w: calendar_body("Other hours")),
    Call("read a calendar", "GET", CALENDAR),
    Call("replace a calendar", "PUT", CALENDAR, lambda w: calendar_body("Matrix hours")),
    Call("delete a calendar", "DELETE", CALENDAR),
    Call(
        "choose a team's calendar",
        "PUT",
        "/api/v1/teams/{team_id}/calendar",
        lambda w: {"calendar": w.calendar.public_id},
    ),
    Call("list SLA policies", "GET", "/api/v1/sla/policies"),
    Call(
        "add an SLA policy",
        "POST",
        "/api/v1/sla/policies",
        lambda w: {"name": "Urgent", "first_response_minutes": 30, "priorities": ["urgent"]},
    ),
    Call("read an SLA policy", "GET", POLICY),
    Call(
        "replace an SLA policy",
        "PUT",
        POLICY,
        lambda w: {"name": "Matrix policy", "first_response_minutes": 120},
    ),
    Call("delete an SLA policy", "DELETE", POLICY),
    Call("SLA attainment report", "GET", "/api/v1/reports/sla", query=PERIOD),
    Call("response times report", "GET", "/api/v1/reports/response-times", query=PERIOD),
    Call("list my notifications", "GET", "/api/v1/notifications"),
    Call("mark a notification read", "POST", "/api/v1/notifications/{notification_id}/read"),
    Call("search", "GET", "/api/v1/search", query="?q=broke"),
]


# --- The installation -------------------------------------------------------------------------


@dataclass
class Installation:
    world: World
    media_root: Path
    people: dict[str, User] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    attachments: dict[tuple[str, str], Attachment] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    calendar: Calendar | None = None
    policy: Policy | None = None
    notification: Notification | None = None

    @property
    def admin(self) -> User:
        return self.world.admin

    def client(self, role: str) -> Client:
        if role == "anonymous":
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role]}")

    def ticket_id(self, case: str) -> str:
        return MISSING_ID if case == "missing" else self.tickets[case].public_id

    def attachment_id(self, case: str, which: str) -> str:
        return MISSING_ID if case == "missing" else self.attachments[case, which].public_id

    def url(self, call: Call, case: str | None = None) -> str:
        return (
            call.path.format(
                ticket_id=self.ticket_id(case) if case else "",
                attachment_id=self.attachment_id(case, call.attachment) if case else "",
                contact_id=self.people["customer"].public_id,
                organisation_id=self.world.acme.public_id,
                team_id=self.world.support.public_id,
                calendar_id=self.calendar.public_id if self.calendar else "",
                policy_id=self.policy.public_id if self.policy else "",
                notification_id=self.notification.public_id if self.notification else "",
            )
            + call.query
        )


def build_installation(media_root: Path) -> Installation:
    world = World()
    initech = factories.OrganisationFactory(name="Initech", shares_tickets=True)
    inst = Installation(world=world, media_root=media_root)
    inst.people = {
        "customer": world.customer,
        "colleague": world.colleague,
        "outsider": world.outsider,
        "cc_customer": factories.CustomerFactory(organisation=initech),
        "team_agent": world.agent,
        "other_agent": world.other_agent,
        "all_teams_agent": factories.AgentFactory(teams=[world.billing], sees_all_teams=True),
        "admin": world.admin,
    }
    globex_requester = world.outsider_colleague
    openings = {
        "own": (world.customer, world.support, []),
        "colleagues": (world.colleague, world.support, []),
        "other_org": (globex_requester, world.support, []),
        "no_team": (world.colleague, None, []),
        "copied_on": (globex_requester, world.support, [inst.people["cc_customer"]]),
    }
    for case, (requester, team, copied) in openings.items():
        ticket = services.create_ticket(
            actor=world.admin,
            requester=requester,
            team=team,
            copied=copied,
            subject=f"Ticket {case}",
            body="It broke.",
            channel="portal",
            attachments=[InMemoryUpload(f"{case}.txt", f"reply {case}".encode(), "text/plain")],
        )
        note = services.post_message(
            ticket=ticket,
            author=world.admin,
            body="Internal only.",
            kind="note",
            via="web",
            attachments=[InMemoryUpload(f"{case}-note.txt", f"note {case}".encode(), "text/plain")],
        )
        inst.tickets[case] = ticket
        inst.attachments[case, "reply"] = Attachment.objects.get(
            ticket=ticket, message__kind="reply"
        )
        inst.attachments[case, "note"] = note.attachments.get()
    for role, person in inst.people.items():
        inst.tokens[role] = create_api_token(actor=None, user=person, name="matrix")[1]
    inst.calendar = schedule_services.save_calendar(
        actor=world.admin,
        data=schedule_services.CalendarIn(
            name="Matrix hours",
            time_zone="Europe/Paris",
            openings=schedule_services.openings_from([("monday", "09:00", "17:00", False)]),
        ),
    )
    inst.policy = sla_services.save_policy(
        actor=world.admin,
        data=sla_services.PolicyIn(name="Matrix policy", targets={"first_response": (3600, True)}),
    )
    inst.notification = Notification.objects.create(
        recipient=world.agent, verb="sla.clock_warning", payload={}
    )
    return inst


@pytest.fixture(scope="module")
def installation(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installation]:
    """Built once; every test's own transaction is rolled back to this state."""
    media_root = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media_root,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        yield build_installation(media_root)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _media_and_tasks(_media_and_tasks: None, settings: Any, installation: Installation) -> None:
    """The shared fixture's settings, but with the media of the module's attachments."""
    settings.MEDIA_ROOT = installation.media_root


# --- Helpers ---------------------------------------------------------------------------------


def send(inst: Installation, role: str, call: Call, case: str | None = None) -> Any:
    client = inst.client(role)
    url = inst.url(call, case)
    if call.body is None:
        return client.generic(call.method, url)
    return client.generic(
        call.method, url, data=json.dumps(call.body(inst)), content_type="application/json"
    )


def stored_state() -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "counts": [
            model.objects.count()
            for model in (
                Ticket,
                Message,
                Attachment,
                AuditEvent,
                User,
                EmailAddress,
                Organisation,
                Team,
                Tag,
                Calendar,
                Policy,
                Notification,
            )
        ],
        "tickets": list(
            Ticket.objects.order_by("id").values_list(
                "status", "priority", "team_id", "assignee_id", "updated_at"
            )
        ),
    }


ERROR_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    409: "invalid_transition",
    422: "invalid",
}


def check_answer(response: Any, expected: int, before: dict[str, Any] | None, call: Call) -> None:
    # Reading the whole stream closes it; closing again would fire request_finished, whose
    # handler drops the test's database connection on PostgreSQL.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == expected, content[:500]
    if expected >= 400:
        assert response["Content-Type"].startswith("application/json"), content[:200]
        assert json.loads(content)["code"] == ERROR_CODES[expected], content[:500]
        if before is not None:
            assert stored_state() == before, "a refused request changes nothing"
    elif call.path == ATTACHMENT:
        assert response["Content-Disposition"].startswith("attachment;")
        assert content.decode().startswith(("reply ", "note "))


# --- The matrix -------------------------------------------------------------------------------


def test_the_matrix_covers_every_operation_of_the_api() -> None:
    documented = {
        (method.upper(), path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {call.operation for call, _table in TICKET_CALLS} | {c.operation for c in ROLE_CALLS}
    assert documented - covered == set(), "add rows for these operations to the matrix"
    assert covered - documented == set(), "the matrix names operations the API does not have"
    assert set(BY_ROLE) == {call.name for call in ROLE_CALLS}


@pytest.mark.parametrize(
    ("call", "role", "case", "expected"),
    [
        pytest.param(call, role, case, table[role, case], id=f"{call.name}-{role}-{case}")
        for call, table in TICKET_CALLS
        for role in ROLES
        for case in CASES
    ],
)
def test_ticket_operation(
    installation: Installation, call: Call, role: str, case: str, expected: int
) -> None:
    before = stored_state() if call.body is not None else None
    check_answer(send(installation, role, call, case), expected, before, call)


@pytest.mark.parametrize(
    ("call", "role", "expected"),
    [
        pytest.param(call, role, BY_ROLE[call.name][role], id=f"{call.name}-{role}")
        for call in ROLE_CALLS
        for role in ROLES
    ],
)
def test_operation_by_role(
    installation: Installation, call: Call, role: str, expected: int
) -> None:
    before = stored_state() if call.body is not None else None
    check_answer(send(installation, role, call), expected, before, call)


# --- What lists show --------------------------------------------------------------------------

# The tickets each role must find in the list: exactly those it can read above.
VISIBLE = {role: {case for case in TICKET_CASES if SEE[role, case] == 200} for role in ROLES[1:]}


def listed_ticket_cases(inst: Installation, role: str, query: str) -> list[str]:
    by_id = {ticket.public_id: case for case, ticket in inst.tickets.items()}
    response = inst.client(role).get(f"/api/v1/tickets?{query}")
    assert response.status_code == 200, response.content
    return [by_id.get(item["id"], item["id"]) for item in response.json()["items"]]


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_ticket_list_shows_exactly_the_tickets_the_role_may_see(
    installation: Installation, role: str
) -> None:
    assert sorted(listed_ticket_cases(installation, role, "limit=100")) == sorted(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES[1:])
def test_walking_the_ticket_list_page_by_page_shows_the_same_tickets(
    installation: Installation, role: str
) -> None:
    seen: list[str] = []
    for sort in ("-created", "updated"):
        query, pages = f"limit=1&sort={sort}", 0
        while True:
            response = installation.client(role).get(f"/api/v1/tickets?{query}")
            page = response.json()
            seen += [item["id"] for item in page["items"]]
            pages += 1
            if not page["next_cursor"] or pages > 10:
                break
            query = f"limit=1&sort={sort}&cursor={page['next_cursor']}"
    expected = sorted(installation.tickets[case].public_id for case in VISIBLE[role])
    assert sorted(seen) == sorted(expected * 2)


FILTERS = {
    "team": lambda inst: "team=support",
    "no team": lambda inst: "team=none",
    "other organisation": lambda inst: f"organisation={inst.world.globex.public_id}",
    "other requester": lambda inst: f"requester={inst.world.outsider_colleague.public_id}",
    "status": lambda inst: "status=new&status=open",
    "unassigned": lambda inst: "assignee=none",
    "tag": lambda inst: "tag=vip",
}


@pytest.mark.parametrize("filter_name", FILTERS)
@pytest.mark.parametrize("role", ROLES[1:])
def test_filters_never_widen_the_ticket_list(
    installation: Installation, role: str, filter_name: str
) -> None:
    for ticket in installation.tickets.values():
        services.set_tags(ticket=ticket, actor=installation.admin, tags=["vip"])
    listed = listed_ticket_cases(installation, role, FILTERS[filter_name](installation))
    assert set(listed) <= VISIBLE[role]


@pytest.mark.parametrize(
    ("role", "case"),
    [(role, case) for role in ROLES[1:] for case in TICKET_CASES if SEE[role, case] == 200],
)
def test_customers_never_find_internal_notes_in_a_thread(
    installation: Installation, role: str, case: str
) -> None:
    response = installation.client(role).get(
        f"/api/v1/tickets/{installation.ticket_id(case)}/messages"
    )
    items = response.json()["items"]
    kinds = [item["kind"] for item in items]
    attachments = {a["id"] for item in items for a in item["attachments"]}
    note_attachment = installation.attachment_id(case, "note")
    if role in CUSTOMER_ROLES:
        assert kinds == ["reply"]
        assert note_attachment not in attachments
        assert all(item["channel_metadata"] == {} for item in items)
    else:
        assert kinds == ["reply", "note"]
        assert note_attachment in attachments


@pytest.mark.parametrize("role", ROLES[1:])
def test_contact_and_organisation_lists_show_only_what_the_role_may_see(
    installation: Installation, role: str
) -> None:
    inst, world = installation, installation.world
    client = inst.client(role)
    contacts = {item["id"] for item in client.get("/api/v1/contacts?limit=100").json()["items"]}
    organisations = {item["name"] for item in client.get("/api/v1/organisations").json()}
    person = inst.people[role]
    if role in CUSTOMER_ROLES:
        assert contacts == {person.public_id}
        assert person.organisation is not None
        assert organisations == {person.organisation.name}
    else:
        customers = {
            world.customer,
            world.colleague,
            world.outsider,
            world.outsider_colleague,
            inst.people["cc_customer"],
        }
        assert contacts == {c.public_id for c in customers}
        assert organisations == {"Acme", "Globex", "Initech"}


def searched_ticket_cases(inst: Installation, role: str, query: str) -> tuple[list[str], str]:
    by_id = {ticket.public_id: case for case, ticket in inst.tickets.items()}
    response = inst.client(role).get("/api/v1/search", {"q": query, "limit": 100})
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    snippets = " ".join(item["snippet_html"] for item in items)
    return [by_id.get(item["ticket"]["id"], item["ticket"]["id"]) for item in items], snippets


@pytest.mark.parametrize("role", ROLES[1:])
def test_search_finds_exactly_the_tickets_the_role_may_see(
    installation: Installation, role: str
) -> None:
    cases, _snippets = searched_ticket_cases(installation, role, "broke")
    assert sorted(cases) == sorted(VISIBLE[role])
    for query in ("broke team:support", "broke status:new", "broke org:globex", "broke tag:vip"):
        assert set(searched_ticket_cases(installation, role, query)[0]) <= VISIBLE[role]


@pytest.mark.parametrize("role", ROLES[1:])
def test_search_never_shows_internal_notes_to_customers(
    installation: Installation, role: str
) -> None:
    # Every ticket has the note "Internal only." with an attachment named <case>-note.txt.
    for query in ("internal", "note", '"internal only"'):
        cases, snippets = searched_ticket_cases(installation, role, query)
        if role in CUSTOMER_ROLES:
            assert cases == [], query
            assert "Internal" not in snippets
        else:
            assert sorted(cases) == sorted(VISIBLE[role]), query


def test_a_hidden_ticket_answers_exactly_like_a_missing_one(installation: Installation) -> None:
    hidden = installation.ticket_id("other_org")
    client = installation.client("customer")
    for path in ("/api/v1/tickets/{}", "/api/v1/tickets/{}/messages", "/api/v1/tickets/{}/events"):
        seen = client.get(path.format(hidden))
        missing = client.get(path.format(MISSING_ID))
        assert (seen.status_code, seen["Content-Type"]) == (
            missing.status_code,
            missing["Content-Type"],
        )
        assert seen.json() == json.loads(missing.content.decode().replace(MISSING_ID, hidden))
