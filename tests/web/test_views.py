import zoneinfo

import pytest
from django.test import Client

from quietdesk.tickets.files import InMemoryUpload
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(person):
    client = Client()
    client.force_login(person)
    return client


def test_pages_carry_a_strict_content_security_policy(world):
    response = Client().get("/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy  # plus a nonce on pages that use one
    assert "'unsafe-inline'" not in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_home_sends_each_person_to_their_place(world):
    assert signed_in(world.customer).get("/").url == "/portal/"
    assert signed_in(world.agent).get("/").url == "/inbox/"
    assert Client().get("/").status_code == 200


def test_sign_in_with_email_and_password(world):
    client = Client()
    response = client.post(
        "/login/", {"username": world.agent.email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get("/inbox/").context["user"] == world.agent
    wrong = Client().post("/login/", {"username": world.agent.email, "password": "nope"})
    assert wrong.status_code == 200
    assert wrong.context["user"].is_anonymous


def test_attachment_download_is_permission_checked(world):
    ticket = factories.ticket(
        requester=world.customer,
        attachments=[InMemoryUpload("invoice.html", b"<script>alert(1)</script>", "text/html")],
    )
    attachment = ticket.attachments.get()
    url = f"/attachments/{attachment.public_id}/download"
    response = signed_in(world.colleague).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert signed_in(world.outsider).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page


def test_healthz_answers(db):
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_the_api_accepts_the_browser_session_with_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.customer)
    assert client.get("/api/v1/me").json()["email"] == world.customer.email
    refused = client.post(
        "/api/v1/tickets", data={"subject": "x", "body": "y"}, content_type="application/json"
    )
    assert refused.status_code in (401, 403)
    client.get("/portal/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/tickets",
        data={"subject": "x", "body": "y"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201, accepted.content


def test_api_docs_and_schema_are_served(db):
    schema = Client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert "/api/v1/tickets" in schema.json()["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_pages_follow_the_readers_language_and_time_zone(world):
    ticket = factories.ticket(requester=world.customer, subject="Horaires")
    world.customer.language = "fr"
    world.customer.time_zone = "Asia/Kathmandu"
    world.customer.save()
    response = signed_in(world.customer).get(
        f"/portal/requests/{ticket.public_id}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    page = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert "Mes demandes" in page
    assert "My requests" not in page
    local = ticket.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Kathmandu"))
    assert local.strftime("%H:%M") in page  # Kathmandu is UTC+05:45: minutes differ too
    assert ticket.created_at.strftime("%H:%M") not in page


def test_the_api_keeps_accept_language_for_a_signed_in_browser(world):
    world.customer.language = "fr"
    world.customer.save()
    response = signed_in(world.customer).get("/api/v1/tickets/nope", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["message"] == "No ticket nope."


def test_the_portal_tells_the_customer_when_to_expect_an_answer(world):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from quietdesk.sla import services as sla
    from quietdesk.tickets import services

    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Fast", targets={"first_response": (2 * 3600, False)}),
    )
    ticket = services.create_ticket(
        actor=world.customer, subject="Export", body="It fails.", channel="portal"
    )
    due = ticket.sla_clocks.get().due_at
    world.customer.language, world.customer.time_zone = "fr", "Europe/Paris"
    world.customer.save()
    client = Client()
    client.force_login(world.customer)
    page = client.get("/portal/").content.decode()
    local = due.astimezone(ZoneInfo("Europe/Paris"))
    assert "Nous vous répondrons d’ici le" in page
    assert f"à {local:%H:%M} (heure de Paris)" in page
    assert (
        "Nous vous répondrons d’ici le"
        in client.get(f"/portal/requests/{ticket.public_id}/").content.decode()
    )
    assert due == ticket.created_at + dt.timedelta(hours=2)  # calendar time: the wall clock
