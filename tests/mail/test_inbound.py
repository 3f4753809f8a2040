"""The inbound pipeline over the corpus in tests/data/mail/: each mail's expected outcome."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mailbox as stdlib_mailbox
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from quietdesk.accounts.models import User
from quietdesk.mail import inbound
from quietdesk.mail.models import InboundMail, InboundStatus, Mailbox, MailReference
from quietdesk.tickets import services
from quietdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parent.parent / "data" / "mail"


def raw(name: str, **values: str) -> bytes:
    data = (CORPUS / name).read_bytes()
    for key, value in values.items():
        data = data.replace(f"{{{key}}}".encode(), value.encode())
    return data


@pytest.fixture
def box(world) -> Mailbox:
    return Mailbox.objects.create(address="support@quietdesk.example", team=world.support)


def receive(name: str, box: Mailbox, **values: str) -> InboundMail:
    return inbound.receive(raw(name, **values), mailbox=box, source="test")


@pytest.fixture
def first(box) -> InboundMail:
    mail = receive("01-new-plain.eml", box)
    assert (mail.status, mail.outcome) == (InboundStatus.PROCESSED, "created")
    return mail


def test_a_new_mail_opens_a_ticket_for_a_new_contact_in_the_mailbox_team(first, world):
    ticket = first.ticket
    assert ticket.subject == "Invoice 2026-114 is wrong"
    assert ticket.channel == "email" and ticket.team == world.support
    assert ticket.requester.email == "marie@client.example"
    assert ticket.requester.name == "Marie Dupont"
    assert ticket.requester.language == "fr"  # from Content-Language
    message = ticket.messages.get()
    assert "compte deux fois la maintenance" in message.body_text
    assert message.channel_metadata["message_id"] == "first-1@client.example"
    assert MailReference.objects.get(message_id="first-1@client.example").ticket == ticket


def test_a_reply_joins_its_thread_and_keeps_the_quoted_history_apart(first, box):
    reply = receive("02-reply-in-reply-to.eml", box)
    assert (reply.outcome, reply.ticket) == ("appended", first.ticket)
    message = reply.ticket_message
    assert message.body_text == "J'ajoute le bon de commande."
    assert "compte deux fois" in message.channel_metadata["quoted"]
    apple = receive("27-apple-mail-reply.eml", box)  # threads through the reply above
    assert (apple.outcome, apple.ticket) == ("appended", first.ticket)
    assert apple.ticket_message.body_text == "Parfait, merci !"


def test_the_same_mail_twice_is_one_message(first, box):
    again = receive("01-new-plain.eml", box)
    assert again.pk == first.pk  # same bytes: stored once
    other_route = receive("03-same-message-id-other-route.eml", box)
    assert other_route.status == InboundStatus.DUPLICATE
    assert other_route.ticket == first.ticket
    assert Message.objects.filter(ticket=first.ticket).count() == 1
    assert InboundMail.objects.count() == 2


def test_a_forged_in_reply_to_from_a_stranger_opens_a_new_ticket(first, box):
    forged = receive("04-forged-in-reply-to.eml", box)
    assert forged.outcome == "created"
    assert forged.ticket != first.ticket
    assert first.ticket.messages.count() == 1


def test_a_ticket_number_in_the_subject_is_trusted_only_from_participants(first, box):
    number = str(first.ticket.number)
    guessed = receive("22-guessed-number.eml", box, number=number)
    assert guessed.outcome == "created" and guessed.ticket != first.ticket
    outlook = receive("24-outlook-reply-subject-only.eml", box, number=number)
    assert (outlook.outcome, outlook.ticket) == ("appended", first.ticket)
    assert outlook.ticket_message.body_text == "Une dernière question sur l'échéance."


def test_a_signed_reply_token_admits_a_new_address_and_a_forged_one_does_not(first, box):
    ticket = first.ticket
    address = inbound.reply_address(box, ticket)
    assert address.startswith("support+t") and str(ticket.number) in address
    colleague = receive("25-token-from-new-address.eml", box, token_address=address)
    assert (colleague.outcome, colleague.ticket) == ("appended", ticket)
    assert ticket.copied.filter(email="colleague@client.example").exists()
    forged = receive("26-forged-token.eml", box, number=str(ticket.number))
    assert forged.outcome == "created" and forged.ticket != ticket


def test_a_gmail_reply_to_our_outbound_mail_lands_in_the_ticket(first, box):
    MailReference.objects.create(
        message_id="qd-out-1@quietdesk.example", ticket=first.ticket, outbound=True
    )
    reply = receive(
        "23-gmail-reply.eml",
        box,
        number=str(first.ticket.number),
        outbound_id="qd-out-1@quietdesk.example",
    )
    assert (reply.outcome, reply.ticket) == ("appended", first.ticket)
    assert reply.ticket_message.body_text == "Merci, c'est corrigé."


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(first, box, world):
    ticket = first.ticket
    services.change_status(ticket=ticket, actor=world.admin, status="solved")
    services.change_status(ticket=ticket, actor=world.admin, status="closed")
    reply = receive("02-reply-in-reply-to.eml", box)
    assert reply.outcome == "follow_up"
    assert reply.ticket.follow_up_of == ticket


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("20-no-sender.eml", "no sender address"),
        ("21-not-a-mail.eml", "no header block"),
    ],
)
def test_mail_that_cannot_be_a_ticket_message_is_kept_with_the_reason(box, name, reason):
    mail = receive(name, box)
    assert mail.status == InboundStatus.UNPROCESSABLE
    assert reason in mail.reason
    assert inbound.read_raw(mail) == raw(name)  # the bytes are kept
    assert not Ticket.objects.exists()


def test_a_failure_while_storing_the_ticket_is_kept_and_reprocessed(box, monkeypatch, capsys):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "create_ticket", broken)
    mail = receive("01-new-plain.eml", box)
    assert mail.status == InboundStatus.UNPROCESSABLE and "disk full" in mail.reason
    assert not Ticket.objects.exists()
    monkeypatch.undo()
    call_command("mail", "reprocess", "--json")
    assert json.loads(capsys.readouterr().out) == {
        "retried": 1,
        "processed": 1,
        "unprocessable": 0,
    }
    mail.refresh_from_db()
    assert (mail.status, mail.outcome, mail.attempts) == (InboundStatus.PROCESSED, "created", 2)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        (
            "05-encoded-words.eml",
            lambda t, m: (
                t.subject == "Problème d'accès à l'espace client"
                and t.requester.name == "Élodée Martin"
                and "connecter" in m.body_text
            ),
        ),
        ("06-wrong-charset-label.eml", lambda t, m: "Grüße aus Köln" in m.body_text),
        (
            "07-latin1-labelled-utf8.eml",
            lambda t, m: "La señal no llega" in m.body_text and t.subject == "Señal",
        ),
        ("08-unknown-charset.eml", lambda t, m: "Plain words and caf" in m.body_text),
        ("09-broken-date.eml", lambda t, m: m.channel_metadata["date"] is None),
        (
            "10-no-message-id.eml",
            lambda t, m: m.channel_metadata["message_id"].endswith("@missing-message-id.quietdesk"),
        ),
        (
            "14-nested-rfc822.eml",
            lambda t, m: [a.filename for a in m.attachments.all()] == ["message.eml"],
        ),
        (
            "15-winmail-dat.eml",
            lambda t, m: [a.filename for a in m.attachments.all()] == ["winmail.dat"],
        ),
        (
            "16-signed.eml",
            lambda t, m: (
                "reset my access" in m.body_text
                and [a.filename for a in m.attachments.all()] == ["smime.p7s"]
            ),
        ),
        ("17-malformed-boundary.eml", lambda t, m: t.subject == "Boundary never closes"),
        ("28-empty-body.eml", lambda t, m: t.subject == "Only a subject"),
        (
            "30-duplicate-message-id-headers.eml",
            lambda t, m: (
                m.channel_metadata["message_id"]
                in ("dup-a-30@client.example", "dup-b-30@client.example")
            ),
        ),
    ],
)
def test_real_world_mail_is_read_without_crashing(box, name, check):
    mail = receive(name, box)
    assert mail.status == InboundStatus.PROCESSED, mail.reason
    ticket = mail.ticket
    assert check(ticket, ticket.messages.order_by("id").first())


def test_html_is_sanitised_and_the_text_version_kept(box):
    mail = receive("11-html-with-script.eml", box)
    message = mail.ticket_message
    assert message.body_text == "Hello, see the logo below."
    html = message.body_html
    assert "<b>see</b>" in html
    for dangerous in ("<script", "onclick", "javascript:", "<form"):
        assert dangerous not in html


def test_attachments_zero_byte_inline_and_calendar_are_kept(box):
    files = receive("12-attachments.eml", box).ticket_message.attachments.order_by("id")
    assert [(a.filename, a.blob.size) for a in files] == [
        ("report.pdf", 20),
        ("empty.txt", 0),
        ("invite.ics", files[2].blob.size),
    ]
    assert files[2].blob.size > 50
    inline = receive("13-inline-image.eml", box).ticket_message
    assert [a.filename for a in inline.attachments.all()] == ["shot.png"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("18-auto-reply.eml", "Auto-Submitted: auto-replied"),
        ("19-mailer-daemon.eml", "delivery report"),
        ("29-precedence-bulk.eml", "Precedence: bulk"),
    ],
)
def test_mail_sent_by_machines_is_recognised(box, first, name, why):
    mail = receive(name, box)
    assert mail.automatic == why
    assert mail.status == InboundStatus.PROCESSED


def test_importing_an_mbox_and_a_maildir_twice_changes_nothing(box, tmp_path, capsys):
    names = [
        "01-new-plain.eml",
        "02-reply-in-reply-to.eml",
        "05-encoded-words.eml",
        "20-no-sender.eml",
    ]
    archive = stdlib_mailbox.mbox(str(tmp_path / "old.mbox"))
    for name in names[:2]:
        archive.add(raw(name))
    archive.flush()
    maildir = stdlib_mailbox.Maildir(str(tmp_path / "Maildir"))
    for name in names[2:]:
        maildir.add(raw(name))
    single = tmp_path / "one.eml"
    single.write_bytes(raw("09-broken-date.eml"))
    args = [
        "mail",
        "import",
        str(tmp_path / "old.mbox"),
        str(tmp_path / "Maildir"),
        str(single),
        "--mailbox",
        box.address,
        "--json",
    ]
    call_command(*args)
    assert json.loads(capsys.readouterr().out) == {
        "received": 5,
        "created": 3,
        "appended": 1,
        "duplicates": 0,
        "failed": 1,
    }
    counts = (Ticket.objects.count(), Message.objects.count(), InboundMail.objects.count())
    call_command(*args)
    again = json.loads(capsys.readouterr().out)
    assert again["received"] == 5 and again["created"] == 0 and again["appended"] == 0
    assert (Ticket.objects.count(), Message.objects.count(), InboundMail.objects.count()) == counts


def test_mail_in_a_staff_members_name_is_kept_for_an_admin_not_posted_as_the_team(
    first, box, world
):
    forged = raw("22-guessed-number.eml", number=str(first.ticket.number)).replace(
        b"Mallory <mallory@evil.example>", world.agent.email.encode()
    )
    mail = inbound.receive(forged, mailbox=box, source="test")
    assert mail.status == InboundStatus.UNPROCESSABLE
    assert "service team" in mail.reason
    assert first.ticket.messages.count() == 1


def test_oversized_headers_and_hostile_encoded_words_are_kept_not_crashed_on(box):
    huge = raw("01-new-plain.eml").replace(
        b"Subject:",
        b"References: " + b" ".join(b"<x%d@y>" % i for i in range(40_000)) + b"\r\nSubject:",
    )
    kept = inbound.receive(huge, mailbox=box, source="test")
    assert kept.status == InboundStatus.UNPROCESSABLE and "header block" in kept.reason
    crlf = raw("01-new-plain.eml").replace(
        b"From: Marie Dupont", b"From: =?utf-8?q?Marie=0D=0ABcc=3A_x=40evil=2Eexample?="
    )
    mail = inbound.receive(crlf, mailbox=box, source="test")
    assert mail.status == InboundStatus.PROCESSED
    assert "\n" not in mail.ticket.requester.name


def stored_unfiled(name: str, box: Mailbox) -> InboundMail:
    """A mail as versions before 0.9 could leave it: stored and committed, then the
    process died before filing it (they stored and filed in two transactions)."""
    data = raw(name)
    digest = hashlib.sha256(data).hexdigest()
    return InboundMail.objects.create(
        sha256=digest,
        size=len(data),
        storage_name=default_storage.save(f"mail/{digest}.eml", ContentFile(data)),
        source="smtp",
        mailbox=box,
        received_at=timezone.now() - dt.timedelta(minutes=10),
    )


def test_mail_stored_but_never_filed_is_filed_by_the_worker(box):
    stored = stored_unfiled("01-new-plain.eml", box)
    assert stored.status == InboundStatus.RECEIVED
    assert inbound.process_stale() == 1
    stored.refresh_from_db()
    assert (stored.status, stored.outcome) == (InboundStatus.PROCESSED, "created")


def test_mail_stored_but_never_filed_is_filed_when_it_arrives_again(box):
    stored = stored_unfiled("01-new-plain.eml", box)
    again = inbound.accept(raw("01-new-plain.eml"), source="smtp", mailbox=box)
    assert (again.inbound.pk, again.stored, again.filed) == (stored.pk, False, True)
    assert (again.inbound.status, again.inbound.outcome) == (InboundStatus.PROCESSED, "created")
    assert Ticket.objects.count() == 1


def test_a_failure_halfway_through_filing_leaves_nothing_half_done(box, monkeypatch):
    """The contact, ticket and message written before the failure are rolled back with
    it; the stored mail stays, unprocessable, and reprocessing files it whole."""

    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(services.search_index, "index_message", broken)
    mail = receive("01-new-plain.eml", box)
    assert (mail.status, mail.attempts) == (InboundStatus.UNPROCESSABLE, 1)
    assert "index unavailable" in mail.reason and mail.ticket_id is None
    assert not Ticket.objects.exists() and not Message.objects.exists()
    assert not User.objects.filter(email="marie@client.example").exists()
    monkeypatch.undo()
    mail = inbound.process(mail)
    assert (mail.status, mail.outcome, mail.attempts) == (InboundStatus.PROCESSED, "created", 2)
    assert Ticket.objects.get().requester.email == "marie@client.example"


def test_a_write_that_fails_for_another_reason_than_a_duplicate_is_raised(box, monkeypatch):
    """Only "these bytes are stored already" is an answer; any other refusal reaches the
    door, which tells the sender to try again (SMTP 451, IMAP leaves it unflagged)."""

    def refused(**kwargs):
        raise IntegrityError("FOREIGN KEY constraint failed")

    monkeypatch.setattr(InboundMail.objects, "create", refused)
    with pytest.raises(IntegrityError):
        inbound.accept(raw("01-new-plain.eml"), source="smtp", mailbox=box)
    monkeypatch.undo()
    assert not InboundMail.objects.exists() and not Ticket.objects.exists()
