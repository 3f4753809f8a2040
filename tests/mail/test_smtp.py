"""The SMTP door: 250 only once the mail is stored, 451 when it cannot be, 550 and 552."""

from __future__ import annotations

import smtplib
import socket

import pytest
from aiosmtpd.controller import Controller

from quietdesk.mail import inbound, outbound, smtp
from quietdesk.mail.models import InboundMail, InboundStatus, Mailbox, OutboundMail, OutboundStatus
from quietdesk.tickets.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

MAIL = (
    b"From: Marie <marie@client.example>\r\nTo: support@quietdesk.example\r\n"
    b"Subject: Hello over SMTP\r\nMessage-ID: <smtp-1@client.example>\r\n\r\nBonjour.\r\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(world, settings):
    settings.MAIL_MAX_BYTES = 64 * 1024
    Mailbox.objects.create(address="support@quietdesk.example", team=world.support)
    controller = smtp.InboundController(
        smtp.InboundHandler(),
        hostname="127.0.0.1",
        port=free_port(),
        data_size_limit=settings.MAIL_MAX_BYTES,
        decode_data=False,
    )
    controller.start()
    yield controller
    controller.stop()


def send(server, raw: bytes, to: str = "support@quietdesk.example") -> None:
    with smtplib.SMTP(server.hostname, server.port, timeout=10) as client:
        client.sendmail("marie@client.example", [to], raw)


def test_a_mail_is_answered_250_once_stored_and_becomes_a_ticket(server):
    send(server, MAIL)
    stored = InboundMail.objects.get()
    assert (stored.source, stored.status, stored.outcome) == ("smtp", "processed", "created")
    assert Ticket.objects.get().subject == "Hello over SMTP"
    # A plus-address reaches the same mailbox; the same Message-ID adds nothing.
    send(server, MAIL.replace(b"support@", b"support+x@"), to="support+x@quietdesk.example")
    again = InboundMail.objects.order_by("id").last()
    assert (again.mailbox.address, again.status) == ("support@quietdesk.example", "duplicate")
    assert Ticket.objects.count() == 1


def test_an_unknown_recipient_is_refused_with_550(server):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(server, MAIL, to="nobody@quietdesk.example")
    assert refused.value.recipients["nobody@quietdesk.example"][0] == 550
    assert not InboundMail.objects.exists()


def test_a_mail_over_the_size_limit_is_refused_with_552(server):
    big = MAIL + b"x" * (70 * 1024) + b"\r\n"
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        send(server, big)
    assert refused.value.smtp_code == 552
    assert not InboundMail.objects.exists()


def test_when_storing_fails_the_sender_is_told_451_and_its_retry_is_stored_once(
    server, monkeypatch
):
    real = inbound.accept

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(smtp, "accept", disk_full)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(server, MAIL)
    assert refused.value.smtp_code == 451
    assert not InboundMail.objects.exists()
    monkeypatch.setattr(smtp, "accept", real)
    send(server, MAIL)  # the sending server retries later
    send(server, MAIL)  # and perhaps once more
    assert InboundMail.objects.count() == 1
    assert InboundMail.objects.get().status == InboundStatus.PROCESSED
    assert Ticket.objects.count() == 1


def test_long_lines_are_accepted_and_a_bounce_is_never_acknowledged(world, settings):
    settings.MAIL_MAX_BYTES = 1024 * 1024
    Mailbox.objects.create(address="support@quietdesk.example", team=world.support)
    controller = smtp.InboundController(
        smtp.InboundHandler(),
        hostname="127.0.0.1",
        port=free_port(),
        data_size_limit=settings.MAIL_MAX_BYTES,
        decode_data=False,
    )
    controller.start()
    try:
        html = MAIL.replace(b"Bonjour.", b"<p>" + b"word " * 1000 + b"</p>")
        send(controller, html)
        assert InboundMail.objects.get().status == "processed"
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
            client.sendmail("", ["support@quietdesk.example"], MAIL.replace(b"smtp-1", b"smtp-2"))
        bounce = InboundMail.objects.order_by("id").last()
        assert bounce.automatic == "empty Return-Path"
    finally:
        controller.stop()


class Catcher:
    """An outside relay: keeps what it is given."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 2.0.0 OK"


def relay(smtputf8: bool) -> tuple[Controller, Catcher]:
    catcher = Catcher()
    controller = Controller(
        catcher,
        hostname="127.0.0.1",
        port=free_port(),
        decode_data=False,
        enable_SMTPUTF8=smtputf8,
    )
    controller.start()
    return controller, catcher


def use_relay(settings, controller: Controller) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "quietdesk.mail.smtp_backend.EmailBackend",
            "OPTIONS": {"host": controller.hostname, "port": controller.port},
        }
    }


UTF8_MAIL = (
    "From: Zoë <zoë@büro.example>\r\nTo: support@quietdesk.example\r\n"
    "Subject: Accents everywhere\r\nMessage-ID: <utf8-1@büro.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour.\r\n"
).encode()


def test_a_sender_with_a_utf8_address_is_received_and_answered_over_smtputf8(server, settings):
    with smtplib.SMTP(server.hostname, server.port, timeout=10) as client:
        client.sendmail(
            "zoë@büro.example", ["support@quietdesk.example"], UTF8_MAIL, mail_options=["SMTPUTF8"]
        )
    ticket = Ticket.objects.get()
    assert ticket.requester.email == "zoë@büro.example"
    assert InboundMail.objects.get().status == InboundStatus.PROCESSED
    # The acknowledgement (sent by the tests' mailer already) goes out as written through
    # a relay that speaks SMTPUTF8.
    controller, catcher = relay(smtputf8=True)
    try:
        ack = OutboundMail.objects.get(kind="acknowledgement")
        use_relay(settings, controller)
        assert outbound.connection().send_messages([outbound.build(ack)]) == 1
    finally:
        controller.stop()
    ((_sender, rcpt_tos, content),) = catcher.envelopes
    assert rcpt_tos == ["zoë@büro.example"]
    assert "To: zoë@büro.example" in content.decode()


def test_a_relay_without_smtputf8_fails_the_mail_for_good_and_says_why(world, settings):
    controller, catcher = relay(smtputf8=False)
    use_relay(settings, controller)
    ticket = factories.ticket(requester=world.customer)
    try:
        mail = OutboundMail.objects.create(
            ticket=ticket,
            kind="reply",
            subject="Hello",
            body_text="Hi",
            sender="support@quietdesk.example",
            to=["zoë@büro.example"],
            message_id="x-1@quietdesk.example",
        )
        sent = outbound.send(mail)
        plain = OutboundMail.objects.create(
            ticket=ticket,
            kind="reply",
            subject="Hello",
            body_text="Hi",
            sender="support@quietdesk.example",
            to=["hans@büro.example"],  # only the domain is Unicode: punycode does it
            message_id="x-2@quietdesk.example",
        )
        assert outbound.send(plain).status == OutboundStatus.SENT
    finally:
        controller.stop()
    assert sent.status == OutboundStatus.FAILED
    assert "SMTPUTF8" in sent.last_error
    assert [rcpt for _from, rcpt, _content in catcher.envelopes] == [["hans@xn--bro-hoa.example"]]
