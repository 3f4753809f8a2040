"""Saving and deleting mailboxes: addresses, IMAP settings and the password's variable."""

from __future__ import annotations

import json

import pytest

from quietdesk.audit.models import AuditEvent
from quietdesk.errors import NotAllowed, ValidationFailed
from quietdesk.mail import services
from quietdesk.mail.models import InboundMail, Mailbox, SmtpSecurity
from quietdesk.mail.services import MailboxIn, PasswordSource

pytestmark = pytest.mark.django_db

VARIABLE = "QUIETDESK_IMAP_PASSWORD_SUPPORT"


def imap(**overrides: object) -> MailboxIn:
    fields: dict[str, object] = {
        "address": "support@quietdesk.example",
        "imap_host": "imap.quietdesk.example",
        "imap_user": "support",
        "imap_password_variable": VARIABLE,
        **overrides,
    }
    return MailboxIn(**fields)  # type: ignore[arg-type]


def test_a_mailbox_is_saved_with_a_normalised_address_and_audited(world):
    box = services.save_mailbox(
        actor=world.admin,
        data=MailboxIn(
            address="  Support@QuietDesk.Example ",
            name=" Support\tdesk ",
            team=world.support,
            language="fr",
            send_acknowledgement=False,
            imap_folder="",
        ),
    )
    box.refresh_from_db()
    assert (box.address, box.name, box.team, box.language) == (
        "support@quietdesk.example",
        "Support desk",
        world.support,
        "fr",
    )
    assert box.send_acknowledgement is False
    assert box.imap_folder == "INBOX"
    event = AuditEvent.objects.get(verb="mailbox.created", target_id=box.public_id)
    assert event.actor == world.admin
    assert event.after["team"] == world.support.public_id


def test_an_address_belongs_to_one_mailbox_and_to_no_person(world):
    services.save_mailbox(actor=world.admin, data=MailboxIn(address="help@quietdesk.example"))
    for address, message in (
        ("HELP@quietdesk.example", "Another mailbox has this address."),
        (world.customer.email.upper(), f"{world.customer.name} writes from this address"),
        (world.agent.email, f"{world.agent.name} writes from this address"),
        ("not an address", "is not a valid email address"),
    ):
        with pytest.raises(ValidationFailed) as info:
            services.save_mailbox(actor=world.admin, data=MailboxIn(address=address))
        assert message in str(info.value.fields["address"])
    assert Mailbox.objects.count() == 1


def test_a_mailbox_keeps_its_own_address_when_edited(world):
    box = services.save_mailbox(actor=world.admin, data=MailboxIn(address="a@quietdesk.example"))
    services.save_mailbox(
        actor=world.admin, mailbox=box, data=MailboxIn(address="A@quietdesk.example", name="A")
    )
    box.refresh_from_db()
    assert (box.address, box.name) == ("a@quietdesk.example", "A")
    event = AuditEvent.objects.get(verb="mailbox.changed", target_id=box.public_id)
    assert (event.before["name"], event.after["name"]) == ("", "A")


@pytest.mark.parametrize(
    "variable",
    [
        "correct horse battery staple",  # a password, not a name
        "hunter2",  # a name's shape, but no name of ours
        "QUIETDESK_SECRET_KEY",  # another secret of the installation
        "DATABASE_URL",
        "QUIETDESK_IMAP_PASSWORD_",  # the prefix alone
        "quietdesk_imap_password_support",
        "QUIETDESK_IMAP_PASSWORD_" + "X" * 80,
    ],
)
def test_the_password_variable_must_be_a_name_of_our_own(world, variable):
    with pytest.raises(ValidationFailed) as info:
        services.save_mailbox(actor=world.admin, data=imap(imap_password_variable=variable))
    assert "not the password" in str(info.value.fields["imap_password_variable"])
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"imap_user": ""}, "imap_user"),
        ({"imap_password_variable": ""}, "imap_password_variable"),
        ({"imap_host": "imaps://imap.example.com"}, "imap_host"),
        ({"imap_host": "imap example.com"}, "imap_host"),
        ({"imap_port": 0}, "imap_port"),
        ({"imap_port": 70000}, "imap_port"),
        ({"language": "de"}, "language"),
        ({"name": "n" * 101}, "name"),
    ],
)
def test_wrong_imap_settings_are_named(world, overrides, field):
    with pytest.raises(ValidationFailed) as info:
        services.save_mailbox(actor=world.admin, data=imap(**overrides))
    assert field in info.value.fields
    assert not Mailbox.objects.exists()


def test_every_problem_is_reported_at_once(world):
    with pytest.raises(ValidationFailed) as info:
        services.save_mailbox(
            actor=world.admin,
            data=imap(address="nope", imap_port=0, imap_user="", imap_password_variable="x"),
        )
    assert set(info.value.fields) == {
        "address",
        "imap_port",
        "imap_user",
        "imap_password_variable",
    }


def test_ipv6_and_plain_hosts_are_accepted(world):
    for number, host in enumerate(("imap.example.com", "[2001:db8::1]", "mail01")):
        box = services.save_mailbox(
            actor=world.admin, data=imap(address=f"box{number}@quietdesk.example", imap_host=host)
        )
        assert box.imap_host == host


def test_moving_to_another_imap_folder_reads_it_from_the_start(world):
    box = services.save_mailbox(actor=world.admin, data=imap())
    box.imap_uidvalidity, box.imap_last_uid = 7, 120
    box.save()
    services.save_mailbox(actor=world.admin, mailbox=box, data=imap(name="Support", imap_port=143))
    box.refresh_from_db()
    assert (box.imap_uidvalidity, box.imap_last_uid) == (7, 120)  # same folder: carry on
    services.save_mailbox(actor=world.admin, mailbox=box, data=imap(imap_folder="Support"))
    box.refresh_from_db()
    assert (box.imap_uidvalidity, box.imap_last_uid) == (None, 0)


def test_deleting_a_mailbox_keeps_its_mail(world):
    box = services.save_mailbox(actor=world.admin, data=imap())
    received = InboundMail.objects.create(
        sha256="b" * 64, size=1, storage_name="bb/bbbb", source="imap", mailbox=box
    )
    services.delete_mailbox(actor=world.admin, mailbox=box)
    received.refresh_from_db()
    assert received.mailbox is None
    event = AuditEvent.objects.get(verb="mailbox.deleted", target_id=box.public_id)
    assert event.before["address"] == "support@quietdesk.example"


def test_only_administrators_change_mailboxes(world):
    box = Mailbox.objects.create(address="support@quietdesk.example")
    with pytest.raises(NotAllowed):
        services.save_mailbox(actor=world.agent, data=MailboxIn(address="x@quietdesk.example"))
    with pytest.raises(NotAllowed):
        services.delete_mailbox(actor=world.agent, mailbox=box)
    assert list(Mailbox.objects.all()) == [box]


def test_the_password_source_follows_the_pollers_rule(monkeypatch, tmp_path):
    box = Mailbox(address="support@quietdesk.example")
    assert services.password_source(box) is PasswordSource.NONE
    box.imap_password_variable = VARIABLE
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.delenv(f"{VARIABLE}_FILE", raising=False)
    assert services.password_source(box) is PasswordSource.MISSING
    monkeypatch.setenv(f"{VARIABLE}_FILE", str(tmp_path / "password"))
    assert services.password_source(box) is PasswordSource.FILE
    monkeypatch.setenv(VARIABLE, "secret")
    assert services.password_source(box) is PasswordSource.VARIABLE


def test_texts_per_language_name_an_unknown_language_and_the_available_ones(world):
    with pytest.raises(ValidationFailed) as refused:
        services.save_mailbox(
            actor=world.admin,
            data=MailboxIn(
                address="help@quietdesk.example",
                signatures={"de": "Ihr Support-Team", "fr": "L’équipe"},
                acknowledgement_texts={"en": "y" * 2001},
            ),
        )
    assert refused.value.fields == {
        "signatures.de": "Unknown language de; available: en, fr.",
        "acknowledgement_texts.en": "A text can have at most 2000 characters.",
    }
    assert not Mailbox.objects.exists()


def test_a_mailbox_address_is_plain_before_the_at(world):
    with pytest.raises(ValidationFailed) as refused:
        services.save_mailbox(actor=world.admin, data=MailboxIn(address="aidé@quietdesk.example"))
    assert refused.value.fields == {
        "address": "A mailbox's address needs plain letters (a to z) before the @."
    }
    accepted = services.save_mailbox(actor=world.admin, data=MailboxIn(address="aide@büro.example"))
    assert accepted.address == "aide@büro.example"


# --- The mailbox's own relay (SMTP) ----------------------------------------------------------

SMTP_VARIABLE = "QUIETDESK_SMTP_PASSWORD_SUPPORT"


def smtp(**overrides: object) -> MailboxIn:
    fields: dict[str, object] = {
        "address": "support@quietdesk.example",
        "smtp_host": "smtp.quietdesk.example",
        "smtp_port": 465,
        "smtp_security": "tls",
        "smtp_user": "support@quietdesk.example",
        "smtp_password_variable": SMTP_VARIABLE,
        **overrides,
    }
    return MailboxIn(**fields)  # type: ignore[arg-type]


def test_a_mailbox_keeps_its_own_relay(world):
    box = services.save_mailbox(
        actor=world.admin, data=smtp(smtp_host=" smtp.quietdesk.example ", smtp_user=" help ")
    )
    box.refresh_from_db()
    assert (box.smtp_host, box.smtp_port, box.smtp_security) == (
        "smtp.quietdesk.example",
        465,
        SmtpSecurity.TLS,
    )
    assert (box.smtp_user, box.smtp_password_variable) == ("help", SMTP_VARIABLE)


def test_without_a_server_the_installation_relay_is_used_with_no_sign_in(world):
    box = services.save_mailbox(actor=world.admin, data=MailboxIn(address="a@quietdesk.example"))
    assert (box.smtp_host, box.smtp_port, box.smtp_security) == ("", 587, "starttls")
    assert (box.smtp_user, box.smtp_password_variable) == ("", "")
    # A relay that knows this server's address needs no sign-in.
    open_relay = services.save_mailbox(
        actor=world.admin,
        data=smtp(address="b@quietdesk.example", smtp_user="", smtp_password_variable=""),
    )
    assert (open_relay.smtp_host, open_relay.smtp_user) == ("smtp.quietdesk.example", "")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"smtp_host": "smtps://smtp.example.com"}, "smtp_host", "only the server's name"),
        ({"smtp_host": "smtp example.com"}, "smtp_host", "only the server's name"),
        ({"smtp_host": "s" * 256}, "smtp_host", "only the server's name"),
        ({"smtp_port": 0}, "smtp_port", "from 1 to 65535"),
        ({"smtp_port": 65536}, "smtp_port", "from 1 to 65535"),
        ({"smtp_security": "ssl"}, "smtp_security", "available: starttls, tls, none"),
        ({"smtp_user": ""}, "smtp_user", "this password's variable"),
        ({"smtp_password_variable": ""}, "smtp_password_variable", "sign in to the SMTP server"),
        ({"smtp_user": "u" * 256}, "smtp_user", "at most 255 characters"),
        (
            {"smtp_host": "", "smtp_user": "help", "smtp_password_variable": SMTP_VARIABLE},
            "smtp_host",
            "leave the user and the variable empty",
        ),
    ],
)
def test_wrong_smtp_settings_are_named(world, overrides, field, message):
    with pytest.raises(ValidationFailed) as info:
        services.save_mailbox(actor=world.admin, data=smtp(**overrides))
    assert message in str(info.value.fields[field])
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize(
    "variable",
    [
        "correct horse battery staple",
        "QUIETDESK_SECRET_KEY",
        "QUIETDESK_IMAP_PASSWORD_SUPPORT",  # the IMAP one's rule is not the SMTP one's
        "QUIETDESK_SMTP_PASSWORD_",
        "quietdesk_smtp_password_support",
        "QUIETDESK_SMTP_PASSWORD_" + "X" * 80,
    ],
)
def test_the_smtp_password_variable_must_be_a_name_of_our_own(world, variable):
    with pytest.raises(ValidationFailed) as info:
        services.save_mailbox(actor=world.admin, data=smtp(smtp_password_variable=variable))
    refused = str(info.value.fields["smtp_password_variable"])
    assert "not the password" in refused and "QUIETDESK_SMTP_PASSWORD_SUPPORT" in refused
    assert variable not in refused or variable.startswith("QUIETDESK_SMTP_PASSWORD_")
    assert not Mailbox.objects.exists()


def test_every_smtp_problem_is_reported_at_once_with_the_others(world):
    with pytest.raises(ValidationFailed) as info:
        services.save_mailbox(
            actor=world.admin,
            data=smtp(
                address="nope",
                imap_port=0,
                smtp_host="smtp://x",
                smtp_port=0,
                smtp_security="ssl",
                smtp_password_variable="hunter2",
            ),
        )
    assert set(info.value.fields) == {
        "address",
        "imap_port",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_password_variable",
    }


def test_smtp_messages_are_translated(world):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(ValidationFailed) as info:
        services.save_mailbox(
            actor=world.admin, data=smtp(smtp_security="ssl", smtp_password_variable="")
        )
    assert info.value.fields["smtp_security"].startswith("Sécurité inconnue")
    assert "serveur SMTP" in info.value.fields["smtp_password_variable"]


def test_the_audit_trail_keeps_the_variable_never_the_password(world, monkeypatch):
    monkeypatch.setenv(SMTP_VARIABLE, "relay-s3cret")
    monkeypatch.setenv(VARIABLE, "imap-s3cret")
    with_imap = {
        "imap_host": "imap.example.com",
        "imap_user": "s",
        "imap_password_variable": VARIABLE,
    }
    box = services.save_mailbox(actor=world.admin, data=smtp(**with_imap))
    services.save_mailbox(actor=world.admin, mailbox=box, data=smtp(**with_imap, smtp_port=2525))
    services.delete_mailbox(actor=world.admin, mailbox=box)
    events = AuditEvent.objects.filter(target_id=box.public_id).order_by("id")
    assert [event.verb for event in events] == [
        "mailbox.created",
        "mailbox.changed",
        "mailbox.deleted",
    ]
    created, changed, _deleted = events
    assert created.after["smtp_password_variable"] == SMTP_VARIABLE
    assert created.after["imap_password_variable"] == VARIABLE
    assert (changed.before["smtp_port"], changed.after["smtp_port"]) == (465, 2525)
    assert changed.after["smtp_security"] == "tls"
    assert changed.after["smtp_user"] == "support@quietdesk.example"
    trail = json.dumps([[event.before, event.after] for event in events])
    assert "s3cret" not in trail


def test_the_smtp_password_source_says_where_the_sender_would_find_it(monkeypatch):
    box = Mailbox(address="support@quietdesk.example", smtp_password_variable=SMTP_VARIABLE)
    monkeypatch.delenv(SMTP_VARIABLE, raising=False)
    monkeypatch.delenv(f"{SMTP_VARIABLE}_FILE", raising=False)
    assert services.smtp_password_source(box) is PasswordSource.MISSING
    monkeypatch.setenv(SMTP_VARIABLE, "secret")
    assert services.smtp_password_source(box) is PasswordSource.VARIABLE
    assert services.password_source(box) is PasswordSource.NONE  # IMAP names none
