"""Bad input never gets a 500: every answer is a 2xx or a 4xx, a 4xx is the API's JSON
error (``message`` and ``code``), and a refused request leaves nothing behind.

Two kinds of tests: schemathesis generates requests for every operation of the
OpenAPI document and runs them through the whole WSGI stack; hypothesis throws
arbitrary JSON, bytes, query strings and path ids at the operations that take them.
Known sharp edges (deep nesting, huge numbers, too many fields, crafted cursors)
have tests of their own, so that each one is reported by name.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from quietdesk import access
from quietdesk.accounts.models import ApiToken, EmailAddress, Organisation, Team, User
from quietdesk.accounts.services import create_api_token
from quietdesk.audit.models import AuditEvent
from quietdesk.tickets.models import Attachment, Blob, Message, Tag, Ticket
from tests import factories
from tests.conftest import World

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- Helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Api:
    """Clients and ids of a small installation, and the one way the tests send requests."""

    def __init__(self, world: World, caplog: pytest.LogCaptureFixture | None = None) -> None:
        self.world = world
        self.caplog = caplog
        self.ticket = factories.ticket(
            requester=world.customer,
            team=world.support,
            attachments=[SimpleUploadedFile("a.txt", b"hello", "text/plain")],
        )
        self.attachment = Attachment.objects.get(ticket=self.ticket)
        self.people = {"customer": world.customer, "agent": world.agent, "admin": world.admin}
        self.clients = {role: self._client(person) for role, person in self.people.items()}
        # Strings in generated bodies that stand for real ids, to get past the lookups.
        self.placeholders = {
            "@customer": world.customer.public_id,
            "@colleague": world.colleague.public_id,
            "@agent": world.agent.public_id,
            "@other_agent": world.other_agent.public_id,
            "@admin": world.admin.public_id,
            "@support": world.support.public_id,
            "@acme": world.acme.public_id,
            "@ticket": self.ticket.public_id,
        }

    @staticmethod
    def _client(person: User) -> Client:
        secret = create_api_token(actor=None, user=person, name="bad input")[1]
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", raise_request_exception=False)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.placeholders.get(value, value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        return value

    def send(
        self,
        role: str,
        method: str,
        url: str,
        data: bytes | str = b"",
        content_type: str = "application/json",
    ) -> Answer:
        """Send a request; check it got a 2xx, or a JSON 4xx that changed nothing."""
        url = url.replace("{ticket}", self.ticket.public_id)
        before = stored_state(self.ticket)
        if self.caplog is not None:
            self.caplog.clear()
        response = self.client(role).generic(method, url, data=data, content_type=content_type)
        # Reading the whole stream closes it; closing again would fire request_finished,
        # whose handler drops the test's database connection on PostgreSQL.
        content = b"".join(response.streaming_content) if response.streaming else response.content
        body = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        request = (
            f"{role} {method} {url[:300]} ({content_type!r}, {len(body)} bytes) {body[:300]!r}"
        )
        # The exception behind a 500, as logged by the API's error handler.
        records = self.caplog.records if self.caplog is not None else []
        errors = [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in records if r.exc_info]
        answer = f"{request}\n-> {response.status_code} {content[:500]!r}\n{errors[-1:]}"
        assert 200 <= response.status_code < 500, answer
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/json"), answer
            error = json.loads(content)
            assert isinstance(error, dict), answer
            assert isinstance(error.get("message"), str), answer
            assert error["message"], answer
            assert isinstance(error.get("code"), str), answer
            assert stored_state(self.ticket) == before, (
                f"a refused request saved something: {answer}"
            )
        return Answer(response.status_code, content)

    def client(self, role: str) -> Client:
        return self.clients[role]


@pytest.fixture
def bad(world: World, caplog: pytest.LogCaptureFixture) -> Api:
    return Api(world, caplog)


def stored_state(ticket: Ticket) -> dict[str, Any]:
    """What a refused request must leave exactly as it was."""
    state: dict[str, Any] = {
        model.__name__: model.objects.count()
        for model in (
            Ticket,
            Message,
            Attachment,
            Blob,
            AuditEvent,
            User,
            EmailAddress,
            Organisation,
            Team,
            Tag,
            ApiToken,
        )
    }
    row = Ticket.objects.filter(pk=ticket.pk)
    state["ticket"] = list(
        row.values_list("status", "priority", "team_id", "assignee_id", "updated_at")
    )
    state["tags"] = sorted(Tag.objects.filter(tickets=ticket).values_list("name", flat=True))
    return state


# --- Strategies -------------------------------------------------------------------------------

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "\uffff",
    "\u202e",
    "\u2028",
    "\x1b[31m",
    "💥",
    "İ" * 50,
    "ﬃ" * 50,
    "me",
    "none",
    "null",
    "%00",
    "%FF",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "1e309",
    "-1",
    "a,b",
    "support",
    "normal",
    "urgent",
    "closed",
    "solved",
    "note",
    "system",
    "reply",
    "phone",
    "x@example.org",
    "not an address",
    "Europe/Paris",
    "Mars/Olympus",
    "fr",
    # Stand-ins for real ids (see Api.placeholders).
    "@customer",
    "@colleague",
    "@agent",
    "@other_agent",
    "@admin",
    "@support",
    "@acme",
    "@ticket",
]

FIELD_NAMES = [
    "subject",
    "body",
    "body_html",
    "requester",
    "requester_email",
    "priority",
    "channel",
    "team",
    "assignee",
    "tags",
    "copied",
    "status",
    "kind",
    "attachments",
]


class Big(str):
    """A long string that reports itself briefly in failure messages."""

    def __repr__(self) -> str:
        return f"<{len(self)} characters starting {str(self[:20])!r}>"


class BigBytes(bytes):
    """A long body that reports itself briefly in failure messages."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes starting {bytes(self[:40])!r}>"


long_strings = st.sampled_from([251, 10_000, 1_000_001]).map(lambda size: Big("x" * size))
nasty_strings = st.one_of(st.sampled_from(NASTY_STRINGS), long_strings)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=20),
    nasty_strings,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)
# Objects that look like what the operations expect, with wrong or odd values.
field_objects = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), json_values, max_size=6
)

NASTY_BODIES = {
    "empty": b"",
    "NUL": b"\x00",
    "invalid UTF-8": b"\xff\xfe",
    "byte order mark": b"\xef\xbb\xbf{}",
    "invalid UTF-8 in a string": b'{"subject": "\xff", "body": "x"}',
    "lone surrogate": b'{"subject": "\\ud800", "body": "x"}',
    "truncated": b'{"subject": ',
    "deeply nested array": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "integer of 5000 digits in a field": b'{"subject": "s", "body": "b", "priority": 1'
    + b"0" * 5000
    + b"}",
    "integer of 5000 digits": b"1" + b"0" * 5000,
    "float overflow": b"1e999999",
    "NaN": b"NaN",
    "string": b'"just a string"',
    "null": b"null",
    "duplicate keys": b'{"subject": "a", "subject": "b", "body": "x"}',
    "UTF-16": "{}".encode("utf-16"),
    "broken multipart": b"--x\r\nfoo",
    "multipart with invalid UTF-8": b'--x\r\nContent-Disposition: form-data; name="subject"'
    b"\r\n\r\n\xff\r\n--x--\r\n",
}
nasty_bodies = st.sampled_from(sorted(NASTY_BODIES)).map(lambda name: BigBytes(NASTY_BODIES[name]))
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-16",
    "text/plain",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "",
]


def multipart(fields: list[tuple[str, bytes]], files: list[tuple[str, bytes]]) -> bytes:
    parts = [
        b'--x\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (name.encode(), value)
        for name, value in fields
    ] + [
        b'--x\r\nContent-Disposition: form-data; name="attachments"; filename="%s"\r\n'
        b"Content-Type: text/plain\r\n\r\n%s\r\n" % (name.encode(), value)
        for name, value in files
    ]
    return b"".join(parts) + b"--x--\r\n"


safe_names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters='"\r\n\\'), max_size=20
)
multipart_bodies = st.builds(
    multipart,
    st.lists(
        st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), safe_names), st.binary()), max_size=6
    ),
    st.lists(st.tuples(safe_names, st.binary(max_size=50)), max_size=3),
).map(lambda body: (body, "multipart/form-data; boundary=x"))

# (body, content type) pairs.
raw_requests = st.one_of(
    st.tuples(json_values.map(lambda v: json.dumps(v).encode()), st.just("application/json")),
    st.tuples(field_objects.map(lambda v: json.dumps(v).encode()), st.just("application/json")),
    st.tuples(st.binary(max_size=300), st.sampled_from(CONTENT_TYPES)),
    st.tuples(nasty_bodies, st.sampled_from(CONTENT_TYPES)),
    multipart_bodies,
)

BODY_OPERATIONS = {
    "open a ticket": ("POST", "/api/v1/tickets"),
    "post a message": ("POST", "/api/v1/tickets/{ticket}/messages"),
    "change a ticket": ("PATCH", "/api/v1/tickets/{ticket}"),
}
ROLES = ["customer", "agent", "admin"]


# --- Schemathesis: every operation of the OpenAPI document ------------------------------------

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def real_ids(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Real objects for half of the generated path ids, so the bodies reach past the lookup."""
    # The WSGI handler closes the connection after each request unless connections persist;
    # reconnecting for every generated request makes the run several times slower.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    api = Api(world)
    return {
        "ticket_id": api.ticket.public_id,
        "attachment_id": api.attachment.public_id,
        "contact_id": world.customer.public_id,
        "organisation_id": world.acme.public_id,
        "team_id": world.support.public_id,
        "token": create_api_token(actor=None, user=world.admin, name="schemathesis")[1],
    }


# No 5xx, and every answer as documented: status, content type, headers and body.
SCHEMATHESIS_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.django_db(transaction=True)  # the WSGI handler opens and closes connections
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_server_error(case: Any, real_ids: dict[str, str]) -> None:
    for name, value in list(case.path_parameters.items()):
        if name in real_ids and len(str(value)) % 2 == 0:
            case.path_parameters[name] = real_ids[name]
    response = case.call(headers={"Authorization": f"Bearer {real_ids['token']}"})
    case.validate_response(response, checks=SCHEMATHESIS_CHECKS)


# --- Hypothesis: arbitrary bodies -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("operation", BODY_OPERATIONS)
@PROPERTY_SETTINGS
@given(role=st.sampled_from(ROLES), value=st.one_of(field_objects, json_values))
def test_any_json_value_gets_a_clean_answer(
    bad: Api, operation: str, role: str, value: Any
) -> None:
    method, path = BODY_OPERATIONS[operation]
    bad.send(role, method, path, json.dumps(bad.resolve(value)))


@pytest.mark.django_db
@pytest.mark.parametrize("operation", BODY_OPERATIONS)
@PROPERTY_SETTINGS
@given(role=st.sampled_from(ROLES), raw=raw_requests)
def test_any_bytes_get_a_clean_answer(
    bad: Api, operation: str, role: str, raw: tuple[bytes, str]
) -> None:
    method, path = BODY_OPERATIONS[operation]
    body, content_type = raw
    bad.send(role, method, path, body, content_type)


# --- Hypothesis: query strings ----------------------------------------------------------------

QUERY_KEYS = [
    "status",
    "priority",
    "channel",
    "team",
    "assignee",
    "requester",
    "organisation",
    "tag",
    "sort",
    "limit",
    "cursor",
]


def cursor_of(value: Any, pk: Any) -> str:
    raw = json.dumps([value, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


cursors = st.builds(
    cursor_of,
    st.one_of(
        json_values,
        st.datetimes().map(lambda d: d.isoformat()),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    ),
    st.one_of(st.integers(), st.integers(min_value=-(2**80), max_value=2**80), json_values),
)
query_values = st.one_of(st.text(max_size=30), nasty_strings, st.integers().map(str), cursors)
# Lone surrogates become percent-encoded invalid UTF-8.
structured_queries = st.lists(
    st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=8)), query_values),
    max_size=8,
).map(lambda pairs: urlencode(pairs, errors="surrogatepass"))
raw_queries = st.binary(max_size=100).map(lambda b: quote_from_bytes(b, safe="=&"))


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(role=st.sampled_from(ROLES), query=st.one_of(structured_queries, raw_queries))
def test_any_query_string_gets_a_clean_answer(bad: Api, role: str, query: str) -> None:
    response = bad.send(role, "GET", f"/api/v1/tickets?{query}")
    if response.status_code == 200:
        listed = {item["id"] for item in response.json()["items"]}
        visible = access.visible_tickets(bad.people[role]).values_list("public_id", flat=True)
        assert listed <= set(visible), "a filter never shows a ticket the reader may not see"


# --- Hypothesis: ids in the path --------------------------------------------------------------

ID_OPERATIONS = [
    ("GET", "/api/v1/tickets/{}"),
    ("PATCH", "/api/v1/tickets/{}"),
    ("GET", "/api/v1/tickets/{}/messages"),
    ("POST", "/api/v1/tickets/{}/messages"),
    ("GET", "/api/v1/tickets/{}/events"),
    ("GET", "/api/v1/attachments/{}"),
    ("GET", "/api/v1/contacts/{}"),
    ("GET", "/api/v1/organisations/{}"),
    ("GET", "/api/v1/teams/{}"),
]
# Percent-encoded ids, including invalid UTF-8; a "/" would address another route (see
# test_an_unknown_api_address_answers_a_json_404).
encoded_ids = st.one_of(
    st.text(min_size=1, max_size=60)
    .filter(lambda s: "/" not in s)
    .map(lambda s: quote(s, safe="", errors="surrogatepass")),
    st.binary(min_size=1, max_size=60)
    .filter(lambda b: b"/" not in b)
    .map(lambda b: quote_from_bytes(b, safe="")),
    st.sampled_from(["%FF", "%C0%AF", "%C0%80", "%ED%A0%80", "%F4%90%80%80", "%00", "%25", "."]),
    st.sampled_from([10_000]).map(lambda size: Big("x" * size)),
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"), ID_OPERATIONS, ids=[" ".join(o) for o in ID_OPERATIONS]
)
@PROPERTY_SETTINGS
@given(encoded_id=encoded_ids)
def test_an_unknown_id_in_the_path_is_not_found(
    bad: Api, method: str, path: str, encoded_id: str
) -> None:
    body = json.dumps({"body": "Hello"} if method == "POST" else {})
    response = bad.send("admin", method, path.format(encoded_id), body)
    assert response.status_code in (400, 404)


# --- Sharp edges, one test each -----------------------------------------------------------------

JSON_BODY_OPERATIONS = [
    ("POST", "/api/v1/tickets"),
    ("POST", "/api/v1/tickets/{ticket}/messages"),
    ("PATCH", "/api/v1/tickets/{ticket}"),
    ("POST", "/api/v1/contacts"),
    ("POST", "/api/v1/organisations"),
    ("POST", "/api/v1/teams"),
]
EDGE_BODIES = [
    "deeply nested array",
    "deeply nested object",
    "integer of 5000 digits in a field",
    "invalid UTF-8 in a string",
    "truncated",
    "NUL",
    "string",
]


@pytest.mark.django_db
@pytest.mark.parametrize("edge", EDGE_BODIES)
@pytest.mark.parametrize(
    ("method", "path"), JSON_BODY_OPERATIONS, ids=[" ".join(o) for o in JSON_BODY_OPERATIONS]
)
def test_malformed_json_gets_a_4xx(bad: Api, method: str, path: str, edge: str) -> None:
    response = bad.send("admin", method, path, NASTY_BODIES[edge])
    assert 400 <= response.status_code < 500


HUGE_FIELDS = {
    "ticket subject": ("/api/v1/tickets", lambda text: {"subject": text, "body": "b"}),
    "ticket body": ("/api/v1/tickets", lambda text: {"subject": "s", "body": text}),
    "message body": ("/api/v1/tickets/{ticket}/messages", lambda text: {"body": text}),
    "organisation name": ("/api/v1/organisations", lambda text: {"name": text}),
    "team description": ("/api/v1/teams", lambda text: {"name": "n", "description": text}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("field", HUGE_FIELDS)
@pytest.mark.parametrize("size", [10_000, 1_000_001, 3 * 1024 * 1024])
def test_huge_strings_get_a_clean_answer(bad: Api, field: str, size: int) -> None:
    path, body = HUGE_FIELDS[field]
    response = bad.send("admin", "POST", path, json.dumps(body("x" * size)))
    if size > 1_000_000 or field in ("ticket subject", "organisation name"):
        assert 400 <= response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"name": "a" * 100}, {"name": "b", "slug": "ﬃ" * 50}],
    ids=["name of 100 characters", "slug of 50 ligatures"],
)
def test_a_team_whose_slug_would_be_too_long_gets_a_clean_answer(
    bad: Api, body: dict[str, str]
) -> None:
    response = bad.send("admin", "POST", "/api/v1/teams", json.dumps(body))
    if response.status_code == 201:
        assert len(response.json()["slug"]) <= Team._meta.get_field("slug").max_length


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/tickets/{ticket}/messages"])
@pytest.mark.parametrize(
    "body",
    [
        multipart([("subject", b"s"), ("body", b"b")] + [(f"f{i}", b"1") for i in range(1001)], []),
        multipart(
            [("subject", b"s"), ("body", b"b")], [(f"{i}.txt", b"%d" % i) for i in range(101)]
        ),
    ],
    ids=["1001 fields", "101 files"],
)
def test_too_many_multipart_parts_get_a_4xx(bad: Api, path: str, body: bytes) -> None:
    response = bad.send("admin", "POST", path, body, "multipart/form-data; boundary=x")
    assert 400 <= response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/tickets", "/api/v1/contacts", "/api/v1/organisations", "/api/v1/teams"]
)
def test_too_many_query_parameters_get_a_4xx(bad: Api, path: str) -> None:
    response = bad.send("admin", "GET", f"{path}?" + "&".join(["limit=5"] * 1001))
    assert 400 <= response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "value", "pk"),
    [
        ("-created", 1, 2**63),
        ("-created", 1, -(10**30)),
        ("-created", 1, 1.5),
        ("-updated", "9999-12-31T23:59:59-23:59", 1),
        ("-updated", "0001-01-01T00:00:00+23:59", 1),
        ("-updated", "2026-01-01T00:00:00", 1),
        ("-updated", "2026-01-01", 1),
        ("updated", ["2026-01-01T00:00:00+00:00"], 1),
        ("updated", "2026-01-01T00:00:00+00:00", 2**70),
    ],
)
def test_crafted_cursors_get_a_clean_answer(bad: Api, sort: str, value: Any, pk: Any) -> None:
    cursor = cursor_of(value, pk)
    bad.send("admin", "GET", f"/api/v1/tickets?sort={sort}&cursor={cursor}")
    bad.send("admin", "GET", f"/api/v1/tickets/{{ticket}}/messages?cursor={cursor}")
    bad.send("admin", "GET", f"/api/v1/contacts?cursor={cursor}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here",
        "/api/v1/tickets/a/b",
        "/api/v1/tickets/a%2Fb",
        "/api/v1/tickets/",
        "/api/v1/tickets/{ticket}/nothing",
    ],
)
def test_an_unknown_api_address_answers_a_json_404(bad: Api, path: str) -> None:
    assert bad.send("admin", "GET", path).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/tickets/{ticket}"),
        ("PUT", "/api/v1/tickets/{ticket}"),
        ("DELETE", "/api/v1/tickets"),
        ("PATCH", "/api/v1/me"),
    ],
)
def test_an_unsupported_method_answers_a_json_405(bad: Api, method: str, path: str) -> None:
    assert bad.send("admin", method, path).status_code == 405
