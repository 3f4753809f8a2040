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


# --- A mailbox's own relay ---------------------------------------------------------------------

SMTP_VARIABLE = "QUIETDESK_SMTP_PASSWORD_SUPPORT"
SMTP_SECRET = "relay-s3cret-never-shown"


class RecordingRelay:
    """Stands for the SMTP backend of a mailbox's relay: how it was built, what it sent."""

    built: list[dict[str, object]]
    sent: list[object]

    def __init__(self, **options: object) -> None:
        type(self).built.append(options)

    def send_messages(self, messages: list[object]) -> int:
        type(self).sent.extend(messages)
        return len(messages)


@pytest.fixture
def relay(monkeypatch):
    recording = type("Relay", (RecordingRelay,), {"built": [], "sent": []})
    monkeypatch.setattr(outbound, "EmailBackend", recording)
    return recording


def own_relay(box: Mailbox, **fields: object) -> Mailbox:
    values = {
        "smtp_host": "smtp.quietdesk.example",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "smtp_user": "support@quietdesk.example",
        "smtp_password_variable": SMTP_VARIABLE,
        **fields,
    }
    for name, value in values.items():
        setattr(box, name, value)
    box.save()
    return box


@pytest.mark.parametrize(
    ("security", "port", "starttls", "tls"),
    [("starttls", 587, True, False), ("tls", 465, False, True), ("none", 2525, False, False)],
)
def test_mail_from_a_mailbox_with_its_own_relay_is_sent_through_it(
    world, box, commits, relay, monkeypatch, settings, security, port, starttls, tls
):
    monkeypatch.setenv(SMTP_VARIABLE, SMTP_SECRET)
    own_relay(box, smtp_security=security, smtp_port=port)
    first = receive(commits, box, "01-new-plain.eml")
    ack = OutboundMail.objects.get(ticket=first.ticket, kind="acknowledgement")
    assert (ack.mailbox, ack.status, ack.last_error) == (box, OutboundStatus.SENT, "")
    assert django_mail.outbox == []  # not through the installation's mailer
    ((options),) = relay.built
    assert options.pop("alias")
    assert options == {
        "host": "smtp.quietdesk.example",
        "port": port,
        "username": "support@quietdesk.example",
        "password": SMTP_SECRET,
        "use_tls": starttls,
        "use_ssl": tls,
        "timeout": settings.SMTP_TIMEOUT_SECONDS,
    }
    (sent,) = relay.sent
    assert sent.to == ["marie@client.example"] and "support@quietdesk.example" in sent.from_email


def test_a_relay_that_needs_no_sign_in_gets_no_credentials(world, box, commits, relay):
    own_relay(box, smtp_user="", smtp_password_variable="")
    receive(commits, box, "01-new-plain.eml")
    ((options),) = relay.built
    assert (options["username"], options["password"]) == (None, None)


def test_without_a_server_of_its_own_a_mailbox_uses_the_installations_mailer(
    world, box, commits, relay
):
    own_relay(box, smtp_host="", smtp_user="", smtp_password_variable="")
    first = receive(commits, box, "01-new-plain.eml")
    ack = OutboundMail.objects.get(ticket=first.ticket, kind="acknowledgement")
    assert (ack.mailbox, ack.status) == (box, OutboundStatus.SENT)
    assert relay.built == [] and len(django_mail.outbox) == 1


def test_a_missing_relay_password_is_retried_and_names_the_variable_never_a_value(
    world, box, commits, relay, monkeypatch, caplog
):
    from tests.web.test_settings_screens import signed_in

    monkeypatch.delenv(SMTP_VARIABLE, raising=False)
    monkeypatch.delenv(f"{SMTP_VARIABLE}_FILE", raising=False)
    own_relay(box)
    first = receive(commits, box, "01-new-plain.eml")
    answer = commits(
        services.post_message, ticket=first.ticket, author=world.agent, body="Hi", via="web"
    )
    waiting = OutboundMail.objects.get(ticket_message=answer)
    assert (waiting.status, waiting.attempts) == (OutboundStatus.RETRYING, 1)
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > timezone.now()
    reason = (
        f"the relay of support@quietdesk.example: the environment variable {SMTP_VARIABLE} "
        "is not set"
    )
    assert waiting.last_error == reason
    assert relay.built == [] and django_mail.outbox == []  # never the installation's instead
    # The service team sees why, on the ticket and in the API.
    page = signed_in(world.agent).get(f"/tickets/{first.ticket.public_id}/").content.decode()
    assert f"Email delivery is being retried: {reason}" in page
    url = f"/api/v1/tickets/{first.ticket.public_id}/messages"
    delivery = api_client(world.agent).get(url).json()["items"][-1]["delivery"][0]
    assert (delivery["status"], delivery["error"]) == ("retrying", reason)
    # The administrator sets the variable: the next round sends both mails.
    monkeypatch.setenv(SMTP_VARIABLE, SMTP_SECRET)
    with caplog.at_level("DEBUG"):
        assert outbound.send_due(now=timezone.now() + dt.timedelta(minutes=2)) == 2
    waiting.refresh_from_db()
    assert (waiting.status, waiting.last_error, waiting.attempts) == (OutboundStatus.SENT, "", 2)
    assert [options["password"] for options in relay.built] == [SMTP_SECRET, SMTP_SECRET]
    assert SMTP_SECRET not in caplog.text
    assert not OutboundMail.objects.filter(last_error__contains=SMTP_SECRET).exists()


def test_the_relay_is_quietdesks_smtp_backend_built_without_deprecated_calls(box, monkeypatch):
    import warnings

    from quietdesk.mail.smtp_backend import EmailBackend

    monkeypatch.setenv(SMTP_VARIABLE, SMTP_SECRET)
    own_relay(box, smtp_security="tls", smtp_port=465)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # RemovedInDjango2028Warning included
        mailer = outbound.connection_for(box)
    assert isinstance(mailer, EmailBackend)
    assert (mailer.host, mailer.port, mailer.use_ssl, mailer.use_tls) == (
        "smtp.quietdesk.example",
        465,
        True,
        False,
    )
    assert (mailer.username, mailer.password) == ("support@quietdesk.example", SMTP_SECRET)
    assert mailer.timeout and mailer.connection is None  # nothing opened before sending


def test_a_mailbox_relay_signs_in_and_delivers_over_a_real_smtp_session(
    world, box, commits, monkeypatch
):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.mail.test_smtp import Catcher, free_port

    sign_ins: list[tuple[bytes, bool]] = []

    def authenticate(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.password == SMTP_SECRET.encode()
        sign_ins.append((data.login, ok))
        return AuthResult(success=ok)

    catcher = Catcher()
    controller = Controller(
        catcher,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_require_tls=False,  # a relay on this network, reached without TLS
    )
    controller.start()
    try:
        own_relay(box, smtp_host="127.0.0.1", smtp_port=controller.port, smtp_security="none")
        monkeypatch.setenv(SMTP_VARIABLE, SMTP_SECRET)
        first = receive(commits, box, "01-new-plain.eml")
    finally:
        controller.stop()
    ack = OutboundMail.objects.get(ticket=first.ticket, kind="acknowledgement")
    assert ack.status == OutboundStatus.SENT, ack.last_error
    assert sign_ins == [(b"support@quietdesk.example", True)]
    ((_sender, recipients, content),) = catcher.envelopes
    assert recipients == ["marie@client.example"]
    assert f"Message-ID: <{ack.message_id}>".encode() in content
    assert django_mail.outbox == []
