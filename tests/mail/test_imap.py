"""IMAP polling: flagged only once stored, resumes after failures, survives renumbering."""

from __future__ import annotations

import logging

import pytest

from quietdesk.mail import imap
from quietdesk.mail.models import InboundMail, Mailbox
from quietdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

SECRET = "correct horse battery staple"


def mail(number: int) -> bytes:
    return (
        f"From: Customer <c{number}@client.example>\r\nTo: support@quietdesk.example\r\n"
        f"Subject: Question {number}\r\nMessage-ID: <imap-{number}@client.example>\r\n\r\n"
        f"Text {number}\r\n"
    ).encode()


class FakeServer:
    """Just enough of imaplib.IMAP4 for the poller, with the server's state inspectable."""

    def __init__(self, messages: dict[int, bytes], validity: int = 1) -> None:
        self.messages = messages
        self.validity = validity
        self.seen: set[int] = set()
        self.logins: list[tuple[str, str]] = []
        self.untagged_responses: dict[str, list[bytes]] = {}

    def login(self, user: str, password: str):
        self.logins.append((user, password))
        return ("OK", [b"Logged in"]) if password == SECRET else ("NO", [b"Bad password"])

    def select(self, folder: str):
        self.untagged_responses = {"UIDVALIDITY": [str(self.validity).encode()]}
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command: str, *args):
        if command == "search":
            start = int(args[1].split()[1].split(":")[0])
            found = [str(u).encode() for u in sorted(self.messages) if u >= start]
            return "OK", [b" ".join(found)]
        if command == "fetch":
            uid = int(args[0])
            return "OK", [(f"{uid} (UID {uid} BODY[] {{n}}".encode(), self.messages[uid]), b")"]
        if command == "store":
            self.seen.add(int(args[0]))
            return "OK", [b""]
        raise AssertionError(command)

    def logout(self):
        return "BYE", [b""]


@pytest.fixture
def box(world, monkeypatch) -> Mailbox:
    monkeypatch.setenv("QUIETDESK_IMAP_PASSWORD_SUPPORT", SECRET)
    return Mailbox.objects.create(
        address="support@quietdesk.example",
        team=world.support,
        imap_host="imap.example",
        imap_user="support",
        imap_password_variable="QUIETDESK_IMAP_PASSWORD_SUPPORT",
    )


def test_new_messages_are_stored_then_flagged_and_not_fetched_again(box):
    server = FakeServer({3: mail(3), 7: mail(7)})
    result = imap.fetch(box, connector=lambda m: server)
    assert (result.fetched, result.stored, result.error) == (2, 2, "")
    assert server.seen == {3, 7}
    assert Ticket.objects.count() == 2
    box.refresh_from_db()
    assert (box.imap_uidvalidity, box.imap_last_uid) == (1, 7)
    server.messages[9] = mail(9)
    again = imap.fetch(box, connector=lambda m: server)
    assert (again.fetched, again.stored) == (1, 1)
    assert InboundMail.objects.count() == 3


def test_a_message_that_cannot_be_stored_stays_unflagged_and_comes_next_time(box, monkeypatch):
    server = FakeServer({1: mail(1), 2: mail(2), 3: mail(3)})
    real = imap.accept
    calls = []

    def fail_on_second(raw, **kwargs):
        calls.append(raw)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(raw, **kwargs)

    monkeypatch.setattr(imap, "accept", fail_on_second)
    result = imap.fetch(box, connector=lambda m: server)
    assert (result.stored, "storing failed" in result.error) == (1, True)
    assert server.seen == {1}
    monkeypatch.setattr(imap, "accept", real)
    imap.fetch(box, connector=lambda m: server)
    assert server.seen == {1, 2, 3}
    assert InboundMail.objects.count() == 3 and Ticket.objects.count() == 3


def test_a_renumbered_folder_is_read_again_without_storing_twice(box):
    server = FakeServer({5: mail(5), 6: mail(6)})
    imap.fetch(box, connector=lambda m: server)
    server.validity = 2
    server.messages = {1: mail(5), 2: mail(6), 3: mail(7)}  # same mails, new numbers, one new
    server.seen.clear()
    result = imap.fetch(box, connector=lambda m: server)
    assert result.fetched == 3
    assert InboundMail.objects.count() == 3 and Ticket.objects.count() == 3
    box.refresh_from_db()
    assert (box.imap_uidvalidity, box.imap_last_uid) == (2, 3)


def test_a_wrong_password_is_reported_without_ever_logging_it(box, monkeypatch, caplog):
    monkeypatch.setenv("QUIETDESK_IMAP_PASSWORD_SUPPORT", "wrong secret")
    server = FakeServer({1: mail(1)})
    with caplog.at_level(logging.DEBUG):
        result = imap.fetch(box, connector=lambda m: server)
    assert result.error == "the server refused login"
    assert not InboundMail.objects.exists()
    assert "wrong secret" not in caplog.text and "wrong secret" not in result.error
    monkeypatch.delenv("QUIETDESK_IMAP_PASSWORD_SUPPORT")
    missing = imap.fetch(box, connector=lambda m: server)
    assert "QUIETDESK_IMAP_PASSWORD_SUPPORT is not set" in missing.error
