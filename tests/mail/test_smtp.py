"""The SMTP door: 250 only once the mail is stored, 451 when it cannot be, 550 and 552."""

from __future__ import annotations

import smtplib
import socket

import pytest
from aiosmtpd.controller import Controller

from quietdesk.mail import inbound, smtp
from quietdesk.mail.models import InboundMail, InboundStatus, Mailbox
from quietdesk.tickets.models import Ticket

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
    controller = Controller(
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
    real = inbound.store_raw

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(smtp, "store_raw", disk_full)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(server, MAIL)
    assert refused.value.smtp_code == 451
    assert not InboundMail.objects.exists()
    monkeypatch.setattr(smtp, "store_raw", real)
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
