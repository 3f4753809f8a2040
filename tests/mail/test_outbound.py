"""Mail we send: acknowledgements, agents' replies, retries, bounces, and the round trip."""

from __future__ import annotations

import datetime as dt
import smtplib
from email import message_from_bytes, policy

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from quietdesk.mail import inbound, outbound
from quietdesk.mail.models import InboundStatus, Mailbox, OutboundMail, OutboundStatus
from quietdesk.sla import services as sla
from quietdesk.tickets import services
from quietdesk.tickets.models import Ticket
from tests.conftest import api_client
from tests.factories import CustomerFactory
from tests.mail.test_inbound import raw
from tests.sla.test_clocks import policy as standard_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(world) -> Mailbox:
    return Mailbox.objects.create(
        address="support@quietdesk.example", name="Quietdesk Support", team=world.support
    )


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Run what waits for the commit (events, then sending tasks) as each change commits."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def receive(commits, box, name, **values):
    return commits(inbound.receive, raw(name, **values), mailbox=box, source="test")


def sent_headers(index: int = -1):
    return message_from_bytes(django_mail.outbox[index].message().as_bytes(), policy=policy.default)


def test_round_trip_mail_reply_and_replies_from_three_mail_clients(world, box, commits):
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Day", targets={"first_response": (24 * 3600, False)}),
    )
    first = receive(commits, box, "01-new-plain.eml")
    ticket = first.ticket
    # The acknowledgement: in French (the mail said Content-Language: fr), with the number
    # and the promise, marked automatic, threaded, with the signed reply address.
    ack = sent_headers()
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<first-1@client.example>"
    assert f"[#{ticket.number}]" in ack["Subject"] and "Nous avons bien reçu" in ack["Subject"]
    assert ack["Reply-To"] == inbound.reply_address(box, ticket)
    body = ack.get_content()
    assert f"ticket n° {ticket.number}" in body or f"#{ticket.number}" in body
    assert "Nous vous répondrons d’ici le" in body
    # The agent answers from the workspace: the reply goes out threaded.
    answer = commits(
        services.post_message,
        ticket=ticket,
        author=world.agent,
        body="Nous avons corrigé la facture.",
        via="web",
    )
    reply = sent_headers()
    assert reply["To"] == "marie@client.example"
    assert reply["Auto-Submitted"] is None
    assert "Nous avons corrigé la facture." in reply.get_content()
    assert "<first-1@client.example>" in reply["References"]
    reply_id = reply["Message-ID"].strip("<>")
    delivery = OutboundMail.objects.get(ticket_message=answer)
    assert delivery.status == OutboundStatus.SENT
    # The customer answers from Gmail (In-Reply-To our reply), Outlook (only the number in
    # the subject) and Apple Mail (References): all three land in the same ticket.
    gmail = receive(
        commits, box, "23-gmail-reply.eml", number=str(ticket.number), outbound_id=reply_id
    )
    outlook = receive(commits, box, "24-outlook-reply-subject-only.eml", number=str(ticket.number))
    apple = receive(commits, box, "27-apple-mail-reply.eml")
    assert {gmail.ticket, outlook.ticket, apple.ticket} == {ticket}
    assert Ticket.objects.count() == 1
    # Replies are never acknowledged: one acknowledgement, one reply, nothing more.
    assert len(django_mail.outbox) == 2


def test_a_reply_shows_its_delivery_in_the_api(world, box, commits):
    first = receive(commits, box, "01-new-plain.eml")
    commits(services.post_message, ticket=first.ticket, author=world.agent, body="Done.", via="web")
    url = f"/api/v1/tickets/{first.ticket.public_id}/messages"
    staff = api_client(world.agent).get(url).json()["items"]
    assert staff[-1]["delivery"][0]["status"] == "sent"
    assert staff[-1]["delivery"][0]["to"] == ["marie@client.example"]
    customer = api_client(first.ticket.requester).get(url).json()["items"]
    assert customer[-1]["delivery"] == []


def test_automatic_mail_is_never_acknowledged(box, commits):
    receive(commits, box, "29-precedence-bulk.eml")
    assert Ticket.objects.count() == 1
    assert django_mail.outbox == []


def test_acknowledgements_to_one_address_are_capped(box, commits, settings):
    settings.MAIL_AUTO_REPLIES_PER_RECIPIENT = 2
    for number in range(4):  # four new tickets from one address within minutes
        mail = raw("01-new-plain.eml").replace(b"first-1@", f"loop-{number}@".encode())
        commits(inbound.receive, mail, mailbox=box, source="test")
    acknowledged = [m for m in django_mail.outbox if m.to == ["marie@client.example"]]
    assert len(acknowledged) == 2


def test_a_temporary_failure_is_retried_later_and_a_permanent_one_is_shown(
    world, box, commits, monkeypatch
):
    first = receive(commits, box, "01-new-plain.eml")
    django_mail.outbox.clear()

    class Refusing:
        def __init__(self, error):
            self.error = error

        def send_messages(self, messages):
            raise self.error

    monkeypatch.setattr(
        outbound, "connection", lambda: Refusing(ConnectionRefusedError("relay down"))
    )
    answer = commits(
        services.post_message, ticket=first.ticket, author=world.agent, body="Hi", via="web"
    )
    queued = OutboundMail.objects.get(ticket_message=answer)
    assert (queued.status, queued.attempts) == (OutboundStatus.RETRYING, 1)
    assert "relay down" in queued.last_error
    assert outbound.send_due(now=timezone.now()) == 0  # not before the pause is over
    monkeypatch.undo()
    later = timezone.now() + dt.timedelta(minutes=2)
    assert outbound.send_due(now=later) == 1
    queued.refresh_from_db()
    assert queued.status == OutboundStatus.SENT and len(django_mail.outbox) == 1
    refused = smtplib.SMTPRecipientsRefused({"marie@client.example": (550, b"No such user")})
    monkeypatch.setattr(outbound, "connection", lambda: Refusing(refused))
    second = commits(
        services.post_message, ticket=first.ticket, author=world.agent, body="Again", via="web"
    )
    failed = OutboundMail.objects.get(ticket_message=second)
    assert failed.status == OutboundStatus.FAILED and "No such user" in failed.last_error


def test_a_bounce_marks_the_mail_it_concerns_failed_and_opens_no_ticket(world, box, commits):
    first = receive(commits, box, "01-new-plain.eml")
    ack = OutboundMail.objects.get(kind="acknowledgement")
    bounce = raw("19-mailer-daemon.eml").replace(
        b"Status: 5.1.1\r\n",
        f"Status: 5.1.1\r\n\r\nMessage-ID: <{ack.message_id}>\r\n".encode(),
    )
    report = commits(inbound.receive, bounce, mailbox=box, source="test")
    assert (report.status, report.outcome) == (InboundStatus.PROCESSED, "bounce")
    ack.refresh_from_db()
    assert ack.status == OutboundStatus.FAILED and "5.1.1" in ack.last_error
    assert Ticket.objects.count() == 1 and report.ticket == first.ticket


def test_a_reply_to_a_closed_ticket_is_not_acknowledged(world, box, commits):
    first = receive(commits, box, "01-new-plain.eml")
    services.change_status(ticket=first.ticket, actor=world.admin, status="solved")
    services.change_status(ticket=first.ticket, actor=world.admin, status="closed")
    acknowledged = len(django_mail.outbox)
    follow_up = receive(commits, box, "02-reply-in-reply-to.eml")
    assert follow_up.outcome == "follow_up"
    assert len(django_mail.outbox) == acknowledged


def test_long_message_ids_go_out_unencoded_so_clients_thread_them(world, box, commits):
    outlook_id = (
        "am0pr07mb1234567890abcdef1234567890abcdef12345678901234"
        "@am0pr07mb1234.eurprd07.prod.outlook.com"
    )
    mail = raw("01-new-plain.eml").replace(b"first-1@client.example", outlook_id.encode())
    first = commits(inbound.receive, mail, mailbox=box, source="test")
    commits(services.post_message, ticket=first.ticket, author=world.agent, body="Ok", via="web")
    sent = django_mail.outbox[-1].message().as_bytes()
    headers = sent.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    assert f"<{outlook_id}>".encode() in headers  # in References, whole
    assert b"=?utf-8?" not in headers.lower()


@pytest.mark.parametrize(
    ("language", "zone", "greeting", "promise"),
    [
        (
            "fr",
            "Europe/Paris",
            "Bonjour Marie Dupont,",
            "Nous vous répondrons d’ici le mardi 24 novembre 2026 à 10:00 (heure de Paris).",
        ),
        (
            "en",
            "America/New_York",
            "Hello Marie Dupont,",
            "We will answer by Tuesday, November 24, 2026, 4:00 AM (Eastern Time).",
        ),
    ],
)
def test_the_acknowledgement_speaks_the_contacts_language_and_time_zone(
    world, box, commits, clock, office, language, zone, greeting, promise
):
    standard_policy(world)  # a first answer within 4 business hours; the office opens 9:00–17:00
    CustomerFactory(
        email="marie@client.example", name="Marie Dupont", language=language, time_zone=zone
    )
    clock.set(2026, 11, 23, 14)  # Monday 14:00 in Paris: due Tuesday 10:00 in Paris
    # The mail says Content-Language: fr; the contact's own language wins.
    receive(commits, box, "01-new-plain.eml")
    ack = sent_headers()
    assert ack["Content-Language"] == language
    body = ack.get_content().replace("\u202f", " ")
    assert body.startswith(greeting)
    assert promise in body


def test_team_signature_and_acknowledgement_text_follow_the_customers_language(world, box, commits):
    box.acknowledgement_texts = {
        "fr": "Nos bureaux sont fermés le vendredi après-midi.",
        "en": "Our office is closed on Friday afternoons.",
    }
    box.signatures = {"fr": "L’équipe Support", "en": "The Support team"}
    box.save()
    CustomerFactory(email="marie@client.example", name="Marie Dupont", language="fr")
    first = receive(commits, box, "01-new-plain.eml")
    ack = sent_headers().get_content()
    assert "Nos bureaux sont fermés le vendredi après-midi." in ack
    assert "\n-- \nL’équipe Support\n" in ack
    assert "Our office" not in ack and "The Support team" not in ack
    # An English reader gets the English texts, under the agent's reply as well.
    first.ticket.requester.language = "en"
    first.ticket.requester.save()
    commits(services.post_message, ticket=first.ticket, author=world.agent, body="Done.", via="web")
    reply = sent_headers().get_content()
    assert reply.startswith("Done.\n\n-- \nThe Support team\n")
    assert "Reply to this email to add to ticket" in reply
    # A language the mailbox has no text in falls back to the mailbox's own language.
    box.signatures = {"fr": "L’équipe Support"}
    box.save()
    commits(
        services.post_message, ticket=first.ticket, author=world.agent, body="Again.", via="web"
    )
    assert "\n-- \nL’équipe Support\n" in sent_headers().get_content()
