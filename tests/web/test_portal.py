"""The customer portal: one-time sign-in links, my requests, replying, solving."""

import datetime as dt
import re

import pytest
from django.core import mail as django_mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from quietdesk.accounts.models import SignInLink
from quietdesk.sla import services as sla
from quietdesk.tickets import services
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(person):
    client = Client()
    client.force_login(person)
    return client


def link_from_mail() -> str:
    (sent,) = django_mail.outbox
    return re.search(r"https?://[^/]+(/portal/sign-in/\S+)", sent.body)[1]


def test_a_customer_signs_in_with_a_one_time_link(world):
    client = Client()
    asked = client.post("/portal/sign-in", {"email": world.customer.email.upper()})
    assert asked.status_code == 200 and "Check your inbox" in asked.content.decode()
    path = link_from_mail()
    token = path.rsplit("/", 1)[1]
    assert not SignInLink.objects.filter(token_hash__contains=token).exists()  # hashed
    # Opening the link (as a mail scanner would) signs nobody in and spends nothing.
    shown = client.get(path)
    assert shown.status_code == 200 and world.customer.email in shown.content.decode()
    assert client.get("/portal/").status_code == 302
    signed = client.post(path)
    assert signed.url == "/portal/"
    assert client.get("/portal/").status_code == 200
    # Once only.
    assert Client().post(path).status_code == 410
    assert Client().get(path).status_code == 410


def test_links_expire_and_tell_nobody_who_is_a_customer(world):
    for email in ("nobody@example.org", world.agent.email, "not an address"):
        page = Client().post("/portal/sign-in", {"email": email})
        assert page.status_code == 200 and "Check your inbox" in page.content.decode()
    assert django_mail.outbox == []  # unknown and staff addresses get no link
    Client().post("/portal/sign-in", {"email": world.customer.email})
    path = link_from_mail()
    SignInLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().post(path).status_code == 410


def test_a_customer_cannot_ask_for_links_without_end(world):
    for _ in range(7):
        Client().post("/portal/sign-in", {"email": world.customer.email})
    assert len(django_mail.outbox) == 5


def test_the_link_mail_is_in_the_customers_language(world):
    world.customer.language = "fr"
    world.customer.save()
    Client().post("/portal/sign-in", {"email": world.customer.email})
    (sent,) = django_mail.outbox
    assert "lien" in sent.subject.lower() or "connexion" in sent.subject.lower()
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"


def test_my_requests_lists_mine_and_my_organisations_with_the_promise(world):
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Day", targets={"first_response": (8 * 3600, False)}),
    )
    mine = factories.ticket(requester=world.customer, subject="My printer")
    shared = factories.ticket(requester=world.colleague, subject="Colleague's laptop")
    hidden = factories.ticket(requester=world.outsider, subject="Other company")
    page = signed_in(world.customer).get("/portal/").content.decode()
    assert mine.subject in page and "Colleague&#x27;s laptop" in page
    assert hidden.subject not in page
    assert "We will answer by" in page
    assert signed_in(world.outsider).get(f"/portal/requests/{mine.public_id}/").status_code == 404
    assert shared.requester == world.colleague


def test_a_request_shows_public_messages_only_and_takes_replies_and_files(world):
    ticket = factories.ticket(requester=world.customer, subject="Access")
    services.post_message(
        ticket=ticket, author=world.admin, body="Secret team note", kind="note", via="web"
    )
    services.post_message(ticket=ticket, author=world.admin, body="Try again now.", via="web")
    client = signed_in(world.customer)
    page = client.get(f"/portal/requests/{ticket.public_id}/").content.decode()
    assert "Try again now." in page
    assert "Secret team note" not in page
    client.post(
        f"/portal/requests/{ticket.public_id}/reply",
        {"body": "Works, thanks.", "files": [SimpleUploadedFile("log.txt", b"ok", "text/plain")]},
    )
    reply = ticket.messages.get(body_text="Works, thanks.")
    assert reply.author == world.customer and reply.channel == "portal"
    assert reply.attachments.get().filename == "log.txt"
    client.post(f"/portal/requests/{ticket.public_id}/solve")
    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_a_customer_opens_a_request_from_the_portal(world):
    client = signed_in(world.customer)
    response = client.post("/portal/new", {"subject": "New laptop", "body": "Please order one."})
    ticket = world.customer.requested_tickets.get()
    assert response.url == f"/portal/requests/{ticket.public_id}/"
    assert ticket.channel == "portal"
    refused = client.post("/portal/new", {"subject": "", "body": ""})
    assert refused.status_code == 400


def test_a_customer_may_set_a_password_and_staff_keep_their_inbox(world):
    client = signed_in(world.customer)
    client.post(
        "/portal/password",
        {"new_password1": "my own secret 2026", "new_password2": "my own secret 2026"},
    )
    assert Client().login(username=world.customer.email, password="my own secret 2026")
    assert signed_in(world.agent).get("/portal/").url == "/inbox/"


def test_a_link_does_not_sign_in_someone_who_became_staff(world):
    Client().post("/portal/sign-in", {"email": world.customer.email})
    path = link_from_mail()
    world.customer.role = "agent"
    world.customer.save()
    assert Client().post(path).status_code == 410
