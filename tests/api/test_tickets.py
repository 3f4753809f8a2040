import json

import pytest
from django.core.management import call_command
from django.test import Client

from quietdesk.accounts.models import ApiToken, User
from quietdesk.accounts.services import hash_token
from quietdesk.tickets.models import Ticket
from tests import factories
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def post_json(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def patch_json(client, url, data):
    return client.patch(url, data=json.dumps(data), content_type="application/json")


def test_a_token_from_the_cli_creates_and_reads_a_ticket(world, capsys):
    call_command("token", "create", world.agent.email)
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("qd_")
    token = ApiToken.objects.get(user=world.agent)
    assert token.token_hash == hash_token(secret)
    assert secret not in (token.prefix, token.token_hash), "the secret is not stored"

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    created = post_json(
        client,
        "/api/v1/tickets",
        {
            "subject": "Broken checkout",
            "body": "Customers cannot pay.",
            "requester": world.customer.public_id,
            "team": "support",
            "tags": ["Shop"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["subject"] == "Broken checkout"
    assert body["status"] == "new"
    assert body["team"]["slug"] == "support"
    assert body["tags"] == ["shop"]
    assert body["requester"]["id"] == world.customer.public_id

    read = client.get(f"/api/v1/tickets/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body


def test_a_customer_gets_404_for_another_organisations_ticket(world):
    theirs = factories.ticket(requester=world.outsider)
    response = api_client(world.customer).get(f"/api/v1/tickets/{theirs.public_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    missing = api_client(world.customer).get("/api/v1/tickets/doesnotexist")
    assert missing.status_code == 404
    assert (
        missing.json()["message"].replace("doesnotexist", theirs.public_id)
        == response.json()["message"]
    ), "a hidden ticket looks exactly like a missing one"


def test_requests_without_credentials_get_401(world):
    response = Client().get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    bad = Client(HTTP_AUTHORIZATION="Bearer qd_not-a-real-token").get("/api/v1/tickets")
    assert bad.status_code == 401


def test_a_revoked_token_no_longer_works(world):
    from quietdesk.accounts.services import create_api_token, revoke_api_token

    token, secret = create_api_token(actor=None, user=world.agent, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/me").status_code == 200
    revoke_api_token(actor=world.agent, token=token)
    assert client.get("/api/v1/me").status_code == 401


def test_the_list_runs_a_constant_number_of_queries(world, django_assert_num_queries):
    from quietdesk.sla import services as sla

    # Every ticket gets SLA clocks, which the list shows without a query per ticket.
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="All", targets={"first_response": (3600, False)}),
    )
    client = api_client(world.admin)
    for i in range(3):
        factories.ticket(requester=world.customer, team=world.support, tags=[], subject=f"T{i}")
    client.get("/api/v1/tickets?limit=100")  # warm the token's last-used stamp
    with django_assert_num_queries(4) as small:  # auth, page, tags, clocks
        assert len(client.get("/api/v1/tickets?limit=100").json()["items"]) == 3
    for i in range(20):
        t = factories.ticket(requester=world.colleague, team=world.billing, subject=f"U{i}")
        from quietdesk.tickets import services

        services.set_tags(ticket=t, actor=world.admin, tags=[f"tag{i}", "common"])
        services.assign(ticket=t, actor=world.admin, assignee=world.other_agent)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/v1/tickets?limit=100").json()["items"]) == 23


def test_cursor_pagination_walks_every_ticket_once(world):
    numbers = {factories.ticket(requester=world.customer, subject=f"S{i}").number for i in range(7)}
    client = api_client(world.admin)
    seen, cursor = [], None
    while True:
        url = "/api/v1/tickets?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json()
        seen += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(numbers, reverse=True)


def test_updated_sort_pages_by_update_time(world):
    tickets = [factories.ticket(requester=world.customer, subject=f"S{i}") for i in range(4)]
    from quietdesk.tickets import services

    services.set_priority(ticket=tickets[0], actor=world.admin, priority="high")
    client = api_client(world.admin)
    first = client.get("/api/v1/tickets?sort=-updated&limit=2").json()
    assert first["items"][0]["id"] == tickets[0].public_id
    second = client.get(f"/api/v1/tickets?sort=-updated&limit=2&cursor={first['next_cursor']}")
    ids = [t["id"] for t in first["items"]] + [t["id"] for t in second.json()["items"]]
    assert len(set(ids)) == 4


def test_filters_narrow_the_list(world):
    from quietdesk.tickets import services

    a = factories.ticket(requester=world.customer, team=world.support)
    b = factories.ticket(requester=world.outsider, team=world.billing)
    services.set_tags(ticket=b, actor=world.admin, tags=["vip"])
    services.assign(ticket=a, actor=world.admin, assignee=world.agent)
    client = api_client(world.admin)

    def ids(query):
        response = client.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200, response.content
        return {t["id"] for t in response.json()["items"]}

    assert ids("team=support") == {a.public_id}
    assert ids("tag=VIP") == {b.public_id}
    assert ids(f"assignee={world.agent.public_id}") == {a.public_id}
    assert ids("assignee=none") == {b.public_id}
    assert ids(f"organisation={world.globex.public_id}") == {b.public_id}
    assert ids("status=new&status=open") == {a.public_id, b.public_id}
    assert ids("status=solved") == set()
    assert (
        api_client(world.agent).get("/api/v1/tickets?assignee=me").json()["items"][0]["id"]
        == a.public_id
    )


def test_patch_changes_each_field_through_its_service(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    client = api_client(world.agent)
    response = patch_json(
        client,
        f"/api/v1/tickets/{ticket.public_id}",
        {"status": "open", "priority": "high", "assignee": "me", "tags": ["a", "b"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["assignee"]["id"], body["tags"]) == (
        "open",
        "high",
        world.agent.public_id,
        ["a", "b"],
    )
    cleared = patch_json(client, f"/api/v1/tickets/{ticket.public_id}", {"assignee": None})
    assert cleared.json()["assignee"] is None
    events = client.get(f"/api/v1/tickets/{ticket.public_id}/events").json()
    assert [e["verb"] for e in events][-5:] == [
        "ticket.assigned",
        "ticket.priority_changed",
        "ticket.tags_changed",
        "ticket.status_changed",
        "ticket.assigned",
    ]


def test_an_invalid_transition_answers_409_with_the_allowed_statuses(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    response = patch_json(
        api_client(world.agent), f"/api/v1/tickets/{ticket.public_id}", {"status": "closed"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["allowed"] == ["open", "pending", "on_hold", "solved"]


def test_a_failing_field_in_a_patch_changes_nothing(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    response = patch_json(
        api_client(world.agent),
        f"/api/v1/tickets/{ticket.public_id}",
        {"priority": "urgent", "status": "closed"},
    )
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_unknown_fields_get_422_naming_the_field(world):
    response = post_json(
        api_client(world.customer),
        "/api/v1/tickets",
        {"subject": "x", "body": "y", "colour": "blue"},
    )
    assert response.status_code == 422
    assert {"field": "colour", "message": "Unknown field."} in response.json()["details"]
    missing = post_json(api_client(world.customer), "/api/v1/tickets", {"body": "y"})
    assert missing.status_code == 422
    assert missing.json()["details"][0]["field"] == "subject"
    assert not Ticket.objects.exists()


def test_wrong_types_get_422(world):
    response = patch_json(api_client(world.admin), "/api/v1/tickets/x", {"tags": "notalist"})
    assert response.status_code == 422
    response = api_client(world.admin).get("/api/v1/tickets?limit=banana")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "limit"


def test_invalid_utf8_and_malformed_json_get_a_clear_4xx(world):
    client = api_client(world.customer)
    bad = client.post(
        "/api/v1/tickets", data=b'{"subject": "\xff\xfe"}', content_type="application/json"
    )
    assert bad.status_code == 422
    assert "UTF-8" in bad.json()["details"][0]["message"]
    broken = client.post("/api/v1/tickets", data=b'{"subject": ', content_type="application/json")
    assert broken.status_code == 422
    ticket = factories.ticket(requester=world.customer)
    patched = client.patch(
        f"/api/v1/tickets/{ticket.public_id}", data=b"\xff", content_type="application/json"
    )
    assert patched.status_code == 400
    assert patched.json()["code"] == "malformed"


def test_a_huge_body_gets_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_json(
        api_client(world.customer), "/api/v1/tickets", {"subject": "x", "body": "y" * 2000}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_messages_with_multipart_attachments_round_trip(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    client = api_client(world.customer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/api/v1/tickets/{ticket.public_id}/messages",
        data={
            "body": "Screenshot attached",
            "attachments": [
                SimpleUploadedFile("screen.png", b"\x89PNG fake", "image/png"),
                SimpleUploadedFile("notes.txt", b"hello", "text/plain"),
            ],
        },
    )
    assert response.status_code == 201, response.content
    message = response.json()
    assert [a["filename"] for a in message["attachments"]] == ["screen.png", "notes.txt"]
    download = client.get(message["attachments"][1]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"hello"
    assert download["Content-Disposition"].startswith("attachment;")
    outsider = api_client(world.outsider).get(message["attachments"][1]["download_url"])
    assert outsider.status_code == 404


def test_an_oversized_attachment_gets_413_and_is_not_stored(world, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    ticket = factories.ticket(requester=world.customer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_client(world.customer).post(
        f"/api/v1/tickets/{ticket.public_id}/messages",
        data={"body": "big", "attachments": [SimpleUploadedFile("a.bin", b"x" * 101)]},
    )
    assert response.status_code == 413
    assert ticket.messages.count() == 1


def test_customers_never_see_internal_notes(world):
    from quietdesk.tickets import services

    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.post_message(ticket=ticket, author=world.agent, body="secret", kind="note", via="web")
    customer_view = api_client(world.customer).get(f"/api/v1/tickets/{ticket.public_id}/messages")
    agent_view = api_client(world.agent).get(f"/api/v1/tickets/{ticket.public_id}/messages")
    assert [m["kind"] for m in customer_view.json()["items"]] == ["reply"]
    assert [m["kind"] for m in agent_view.json()["items"]] == ["reply", "note"]


def test_a_reply_to_a_closed_ticket_answers_with_the_follow_up(world):
    from quietdesk.tickets import services

    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.change_status(ticket=ticket, actor=world.agent, status="solved")
    services.change_status(ticket=ticket, actor=world.agent, status="closed")
    response = post_json(
        api_client(world.customer),
        f"/api/v1/tickets/{ticket.public_id}/messages",
        {"body": "Again"},
    )
    assert response.status_code == 201
    follow_up = Ticket.objects.get(follow_up_of=ticket)
    assert response.json()["ticket"] == follow_up.public_id
    read = api_client(world.customer).get(f"/api/v1/tickets/{follow_up.public_id}").json()
    assert read["follow_up_of"] == ticket.public_id


def test_staff_can_open_a_ticket_for_a_new_contact_by_email(world):
    response = post_json(
        api_client(world.agent),
        "/api/v1/tickets",
        {
            "subject": "Call back",
            "body": "Phoned about invoices",
            "channel": "phone",
            "requester_email": "New.Person@Example.org",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["requester"]["email"] == "new.person@example.org"
    assert response.json()["channel"] == "phone"


@pytest.mark.parametrize(
    "request_args",
    [
        ("post", "/api/v1/tickets", {"subject": "x", "body": "y", "requester": "\x00"}),
        ("post", "/api/v1/tickets", {"subject": "x", "body": "y", "requester_email": "a\x00@b.c"}),
        ("post", "/api/v1/tickets", {"subject": "x", "tags": ["a\x00"], "body": "y"}),
        ("get", "/api/v1/tickets?requester=%00", None),
        ("get", "/api/v1/tickets/abc%00def", None),
        ("get", "/api/v1/contacts?q=%00", None),
    ],
)
def test_nul_characters_get_a_clear_4xx_on_every_database(world, request_args):
    method, url, data = request_args
    client = api_client(world.admin)
    response = getattr(client, method)(url) if data is None else post_json(client, url, data)
    assert 400 <= response.status_code < 500, response.content
    assert "NUL" in response.json()["message"] + str(response.json()["details"])
    assert not Ticket.objects.exists()


def test_a_patch_with_a_nul_character_gets_422_naming_the_field(world):
    ticket = factories.ticket(requester=world.customer)
    response = patch_json(
        api_client(world.admin), f"/api/v1/tickets/{ticket.public_id}", {"tags": ["ok", "bad\x00"]}
    )
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"field": "tags.1", "message": "Contains a NUL character."}
    ]


def test_error_messages_follow_accept_language_while_codes_and_fields_do_not(world):
    client = api_client(world.customer)
    english = post_json(client, "/api/v1/tickets", {"subject": " ", "body": "y"})
    french = client.post(
        "/api/v1/tickets",
        data=json.dumps({"subject": " ", "body": "y"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert english.status_code == french.status_code == 422
    assert english.json()["code"] == french.json()["code"] == "invalid"
    assert [d["field"] for d in english.json()["details"]] == ["subject"]
    assert [d["field"] for d in french.json()["details"]] == ["subject"]
    assert english.json()["details"][0]["message"] == "A ticket needs a subject."
    assert french.json()["details"][0]["message"] == "Un ticket doit avoir un objet."
    unknown = client.get("/api/v1/tickets/nope", HTTP_ACCEPT_LANGUAGE="xx-YY")
    assert unknown.json()["message"] == "No ticket nope."


def test_an_unknown_language_for_a_contact_names_the_languages_we_speak(world):
    client = api_client(world.agent)
    body = json.dumps({"email": "nouveau@client.example", "language": "de"})
    for accept, message in (
        ("en", "Unknown language de; available: en, fr."),
        ("fr", "Langue inconnue : de ; langues disponibles : en, fr."),
        ("xx-YY", "Unknown language de; available: en, fr."),  # unknown: the default
    ):
        refused = client.post(
            "/api/v1/contacts",
            data=body,
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=accept,
        )
        assert refused.status_code == 422
        details = refused.json()["details"]
        assert [(d["field"], d["message"].replace("\u00a0", " ")) for d in details] == [
            ("language", message)
        ]
    assert not User.objects.filter(email="nouveau@client.example").exists()
