"""The admin screens for teams, agents and mailboxes."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from quietdesk.accounts.models import Role, Team, User
from quietdesk.audit.models import AuditEvent
from quietdesk.mail.models import InboundMail, Mailbox
from quietdesk.schedule.models import Calendar
from tests import factories
from tests.web.test_settings_screens import signed_in

pytestmark = pytest.mark.django_db

SECRET = "imap-s3cret-do-not-show"
VARIABLE = "QUIETDESK_IMAP_PASSWORD_HELP"


def field_error(html: str, field: str) -> str:
    """The error text shown inside the block of the form field ``field``."""
    form = html[html.index('<form method="post" class="settings-form">') :]
    form = form[: form.index("</form>")]
    for block in form.split('<div class="field')[1:]:
        if f'name="{field}"' in block:
            error = re.search(r'<div class="error" role="alert">(.*?)</div>', block, re.DOTALL)
            return re.sub(r"<[^>]+>", " ", error[1]).strip() if error else ""
    raise AssertionError(f"no field {field} on the page")


def mailbox_form(**overrides: str) -> dict[str, str]:
    data = {
        "address": "help@quietdesk.example",
        "name": "Help desk",
        "team": "",
        "language": "en",
        "send_acknowledgement": "on",
        "imap_host": "",
        "imap_port": "993",
        "imap_tls": "on",
        "imap_user": "",
        "imap_password_variable": "",
        "imap_folder": "INBOX",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_user": "",
        "smtp_password_variable": "",
    }
    data.update(overrides)
    return data


def agent_form(person: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": person.name,
        "role": person.role,
        "teams": [team.public_id for team in person.teams.all()],
        "language": person.language,
        "time_zone": person.time_zone,
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def mailbox(world) -> Mailbox:
    return Mailbox.objects.create(address="support@quietdesk.example", team=world.support)


# --- Who may come in -------------------------------------------------------------------------


def pages(world, mailbox: Mailbox) -> list[str]:
    return [
        "/settings/teams/",
        "/settings/teams/new",
        f"/settings/teams/{world.support.public_id}/",
        "/settings/agents/",
        "/settings/agents/new",
        f"/settings/agents/{world.other_agent.public_id}/",
        "/settings/mailboxes/",
        "/settings/mailboxes/new",
        f"/settings/mailboxes/{mailbox.public_id}/",
        f"/settings/mailboxes/{mailbox.public_id}/delete",
    ]


def test_only_administrators_reach_the_team_agent_and_mailbox_settings(world, mailbox):
    for url in pages(world, mailbox):
        for person in (world.agent, world.customer):
            assert signed_in(person).get(url).status_code == 403, url
        anonymous = Client().get(url)
        assert anonymous.status_code == 302, url
        assert anonymous["Location"].startswith("/login/"), url
        assert signed_in(world.admin).get(url).status_code == 200, url


def test_agents_cannot_change_anything_by_posting(world, mailbox):
    client = signed_in(world.agent)
    assert client.post("/settings/teams/new", {"name": "Shadow"}).status_code == 403
    assert (
        client.post(
            f"/settings/agents/{world.agent.public_id}/",
            agent_form(world.agent, role=Role.ADMIN),
        ).status_code
        == 403
    )
    assert client.post(f"/settings/mailboxes/{mailbox.public_id}/delete").status_code == 403
    world.agent.refresh_from_db()
    assert world.agent.role == Role.AGENT
    assert not Team.objects.filter(name="Shadow").exists()
    assert Mailbox.objects.filter(pk=mailbox.pk).exists()


def test_the_settings_tabs_lead_to_teams_agents_and_mailboxes(world):
    page = signed_in(world.admin).get("/settings/hours/").content.decode()
    for url in ("/settings/teams/", "/settings/agents/", "/settings/mailboxes/"):
        assert f'href="{url}"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/settings/teams/{agent}/",  # a person's id is no team
        "/settings/teams/support/",  # nor is a team's short name: URLs carry public ids
        "/settings/teams/unknown/",
        "/settings/agents/{customer}/",  # customers are no agents
        "/settings/agents/{team}/",
        "/settings/agents/unknown/",
        "/settings/mailboxes/{team}/",
        "/settings/mailboxes/unknown/",
        "/settings/mailboxes/{team}/delete",
    ],
)
def test_ids_of_another_kind_or_unknown_are_not_found(world, mailbox, url):
    client = signed_in(world.admin)
    target = url.format(
        agent=world.agent.public_id,
        customer=world.customer.public_id,
        team=world.support.public_id,
    )
    assert client.get(target).status_code == 404
    assert client.post(target, {}).status_code == 404


# --- Teams -----------------------------------------------------------------------------------


def test_an_admin_creates_and_edits_a_team_with_members_and_a_calendar(world):
    lyon = Calendar.objects.create(name="Lyon office", time_zone="Europe/Paris")
    client = signed_in(world.admin)
    response = client.post(
        "/settings/teams/new",
        {
            "name": "Sales",
            "slug": "",
            "description": "Quotes and renewals",
            "members": [world.agent.public_id, world.other_agent.public_id],
            "calendar": lyon.public_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sales = Team.objects.get(name="Sales")
    assert sales.slug == "sales"
    assert sales.calendar == lyon
    assert set(sales.members.all()) == {world.agent, world.other_agent}
    assert AuditEvent.objects.filter(verb="team.created", target_id=sales.public_id).exists()
    listing = client.get("/settings/teams/").content.decode()
    assert "Team “Sales” saved." in listing
    row = re.search(r"<tr>\s*<td><a[^>]*>Sales</a>.*?</tr>", listing, re.DOTALL)
    assert row is not None
    assert "<td>2</td>" in row[0] and "Lyon office" in row[0]

    edit = client.get(f"/settings/teams/{sales.public_id}/").content.decode()
    assert re.search(rf'value="{world.agent.public_id}"[^>]*checked', edit)
    assert re.search(rf'<option value="{lyon.public_id}" selected>', edit)

    response = client.post(
        f"/settings/teams/{sales.public_id}/",
        {
            "name": "Sales EMEA",
            "slug": "sales",
            "description": "",
            "members": [world.other_agent.public_id],
            "calendar": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sales.refresh_from_db()
    assert (sales.name, sales.slug, sales.calendar) == ("Sales EMEA", "sales", None)
    assert list(sales.members.all()) == [world.other_agent]
    change = AuditEvent.objects.get(verb="team.changed", target_id=sales.public_id)
    assert change.before["calendar"] == lyon.public_id and change.after["calendar"] is None
    assert change.after["members"] == [world.other_agent.public_id]
    listing = client.get("/settings/teams/").content.decode()
    assert "Default calendar (Standard hours)" in listing


def test_a_duplicate_team_name_is_refused_next_to_the_field_and_nothing_is_saved(world):
    client = signed_in(world.admin)
    teams_before = list(Team.objects.values_list("name", "slug"))
    response = client.post(
        "/settings/teams/new",
        {"name": "support", "slug": "help", "members": [world.agent.public_id]},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert field_error(html, "name") == "A team called support exists already."
    assert field_error(html, "slug") == ""
    assert 'value="support"' in html  # what the admin typed is there to correct
    assert list(Team.objects.values_list("name", "slug")) == teams_before

    response = client.post(
        f"/settings/teams/{world.billing.public_id}/", {"name": "Billing", "slug": "support"}
    )
    assert response.status_code == 422
    assert field_error(response.content.decode(), "slug") == (
        "The short name support is taken by the team Support."
    )
    world.billing.refresh_from_db()
    assert world.billing.slug == "billing"
    assert set(world.billing.members.all()) == {world.other_agent}


def test_customers_are_not_offered_as_team_members(world):
    client = signed_in(world.admin)
    form = client.get("/settings/teams/new").content.decode()
    assert world.agent.public_id in form and world.admin.public_id in form
    assert world.customer.public_id not in form
    response = client.post(
        "/settings/teams/new", {"name": "Mixed", "members": [world.customer.public_id]}
    )
    assert response.status_code == 422
    assert field_error(response.content.decode(), "members")
    assert not Team.objects.filter(name="Mixed").exists()


# --- Agents ----------------------------------------------------------------------------------


def test_an_admin_adds_an_agent_who_chooses_a_password_through_the_sign_in_page(world):
    client = signed_in(world.admin)
    form = client.get("/settings/agents/new").content.decode()
    assert "“Forgotten your password?”" in form
    response = client.post(
        "/settings/agents/new",
        {
            "email": "Noor@Quietdesk.example",
            "name": "Noor Haddad",
            "role": Role.AGENT,
            "teams": [world.billing.public_id],
            "sees_all_teams": "on",
            "language": "fr",
            "time_zone": "Asia/Beirut",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    noor = User.objects.get(email="noor@quietdesk.example")
    assert (noor.role, noor.language, noor.time_zone) == (Role.AGENT, "fr", "Asia/Beirut")
    assert noor.sees_all_teams and noor.is_active
    assert list(noor.teams.all()) == [world.billing]
    listing = client.get("/settings/agents/").content.decode()
    assert "Noor Haddad" in listing and "Asia/Beirut" in listing and "French" in listing

    Client().post("/password/reset/", {"email": "noor@quietdesk.example"})
    assert [m.to for m in mail.outbox] == [["noor@quietdesk.example"]]


def test_a_new_agent_needs_an_address_nobody_uses(world):
    response = signed_in(world.admin).post(
        "/settings/agents/new",
        {
            "email": world.customer.email,
            "name": "Copy",
            "role": Role.AGENT,
            "language": "en",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 422
    assert "Already in use" in field_error(response.content.decode(), "email")
    assert User.objects.filter(email=world.customer.email).get() == world.customer


def test_an_admin_changes_an_agents_role_and_teams_then_deactivates_them(world):
    client = signed_in(world.admin)
    edit = client.get(f"/settings/agents/{world.agent.public_id}/").content.decode()
    assert world.agent.email in edit
    response = client.post(
        f"/settings/agents/{world.agent.public_id}/",
        agent_form(world.agent, role=Role.ADMIN, teams=[world.billing.public_id]),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    world.agent.refresh_from_db()
    assert world.agent.role == Role.ADMIN and world.agent.is_superuser
    assert list(world.agent.teams.all()) == [world.billing]

    agent_client = signed_in(world.other_agent)
    assert agent_client.get("/inbox/").status_code == 200
    response = client.post(
        f"/settings/agents/{world.other_agent.public_id}/",
        agent_form(world.other_agent, is_active=None),
    )
    assert response.status_code == 302
    world.other_agent.refresh_from_db()
    assert not world.other_agent.is_active
    assert agent_client.get("/inbox/").status_code == 302  # signed out from now on
    listing = client.get("/settings/agents/").content.decode()
    assert '<span class="status">inactive</span>' in listing
    event = AuditEvent.objects.get(verb="person.changed", target_id=world.other_agent.public_id)
    assert (event.before["is_active"], event.after["is_active"]) == (True, False)


def test_an_admin_cannot_demote_or_deactivate_themself(world):
    """Nor, so, the last administrator (the service refuses that too: tests/accounts)."""
    assert list(User.objects.filter(role=Role.ADMIN)) == [world.admin]
    client = signed_in(world.admin)
    mine = f"/settings/agents/{world.admin.public_id}/"
    response = client.post(mine, agent_form(world.admin, role=Role.AGENT))
    assert response.status_code == 422
    assert "your own administrator role" in field_error(response.content.decode(), "role")
    response = client.post(mine, agent_form(world.admin, is_active=None))
    assert response.status_code == 422
    assert "deactivate yourself" in field_error(response.content.decode(), "is_active")
    world.admin.refresh_from_db()
    assert world.admin.role == Role.ADMIN and world.admin.is_active


# --- Mailboxes -------------------------------------------------------------------------------


def test_an_admin_creates_edits_and_deletes_a_mailbox(world, monkeypatch):
    monkeypatch.setenv(VARIABLE, SECRET)
    client = signed_in(world.admin)
    response = client.post(
        "/settings/mailboxes/new",
        mailbox_form(
            address="Help@QuietDesk.example",
            team=world.billing.public_id,
            language="fr",
            send_acknowledgement="",
            imap_host="imap.quietdesk.example",
            imap_user="help",
            imap_password_variable=VARIABLE,
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    box = Mailbox.objects.get()
    assert box.address == "help@quietdesk.example"
    assert (box.team, box.language, box.send_acknowledgement) == (world.billing, "fr", False)
    assert (box.imap_host, box.imap_user, box.imap_password_variable) == (
        "imap.quietdesk.example",
        "help",
        VARIABLE,
    )
    listing = client.get("/settings/mailboxes/").content.decode()
    assert "help@quietdesk.example" in listing and "Billing" in listing and "French" in listing
    assert "imap.quietdesk.example" in listing and "Off" in listing

    edit = client.get(f"/settings/mailboxes/{box.public_id}/").content.decode()
    assert f"{VARIABLE} is set in this server's environment." in edit
    assert SECRET not in edit and SECRET not in listing

    response = client.post(
        f"/settings/mailboxes/{box.public_id}/",
        mailbox_form(address="help@quietdesk.example", send_acknowledgement="on"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    box.refresh_from_db()
    assert (box.team, box.imap_host, box.send_acknowledgement) == (None, "", True)
    listing = client.get("/settings/mailboxes/").content.decode()
    assert "Not configured" in listing and "No team" in listing

    confirm = client.get(f"/settings/mailboxes/{box.public_id}/delete").content.decode()
    assert "The mail it already received stays stored" in confirm
    assert Mailbox.objects.filter(pk=box.pk).exists()  # asking changes nothing
    response = client.post(f"/settings/mailboxes/{box.public_id}/delete")
    assert response.status_code == 302
    assert not Mailbox.objects.exists()
    assert "Mailbox help@quietdesk.example deleted." in client.get(response.url).content.decode()


def test_signature_and_acknowledgement_text_are_written_per_language(world, mailbox):
    client = signed_in(world.admin)
    url = f"/settings/mailboxes/{mailbox.public_id}/"
    response = client.post(
        url,
        mailbox_form(
            address=mailbox.address,
            signature_fr="L’équipe Support\r\nQuietdesk",
            signature_en="  ",
            acknowledgement_fr="Fermé le vendredi après-midi.",
            acknowledgement_en="Closed on Friday afternoons.",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    mailbox.refresh_from_db()
    assert mailbox.signatures == {"fr": "L’équipe Support\nQuietdesk"}  # blank: no text
    assert mailbox.acknowledgement_texts == {
        "fr": "Fermé le vendredi après-midi.",
        "en": "Closed on Friday afternoons.",
    }
    edit = client.get(url).content.decode()
    assert "Signature (French)" in edit and "Acknowledgement text (English)" in edit
    assert "Closed on Friday afternoons.</textarea>" in edit
    # Too long: refused next to its field, nothing saved.
    response = client.post(
        url, mailbox_form(address=mailbox.address, signature_en="x" * 2001, signature_fr="")
    )
    assert response.status_code == 422
    assert "at most 2000 characters" in field_error(response.content.decode(), "signature_en")
    mailbox.refresh_from_db()
    assert mailbox.signatures == {"fr": "L’équipe Support\nQuietdesk"}


def test_deleting_a_mailbox_keeps_the_mail_it_received(world, mailbox):
    received = InboundMail.objects.create(
        sha256="a" * 64, size=10, storage_name="aa/aaaa", source="smtp", mailbox=mailbox
    )
    signed_in(world.admin).post(f"/settings/mailboxes/{mailbox.public_id}/delete")
    received.refresh_from_db()
    assert received.mailbox is None
    assert not Mailbox.objects.filter(pk=mailbox.pk).exists()


def test_a_missing_password_variable_is_shown_never_a_value(world, mailbox, monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    mailbox.imap_host = "imap.quietdesk.example"
    mailbox.imap_user = "support"
    mailbox.imap_password_variable = VARIABLE
    mailbox.save()
    client = signed_in(world.admin)
    assert "password variable not set" in client.get("/settings/mailboxes/").content.decode()
    edit = client.get(f"/settings/mailboxes/{mailbox.public_id}/").content.decode()
    assert f"{VARIABLE} is not set in this server's environment" in edit

    monkeypatch.setenv(f"{VARIABLE}_FILE", "/run/secrets/imap")
    edit = client.get(f"/settings/mailboxes/{mailbox.public_id}/").content.decode()
    assert f"{VARIABLE}_FILE is set" in edit
    assert "/run/secrets/imap" not in edit


def test_a_password_typed_instead_of_a_variable_name_is_refused(world, mailbox, monkeypatch):
    monkeypatch.setenv(VARIABLE, SECRET)
    response = signed_in(world.admin).post(
        f"/settings/mailboxes/{mailbox.public_id}/",
        mailbox_form(
            address=mailbox.address,
            imap_host="imap.quietdesk.example",
            imap_user="support",
            imap_password_variable="hunter2!",
        ),
    )
    assert response.status_code == 422
    assert "not the password" in field_error(response.content.decode(), "imap_password_variable")
    assert "hunter2" not in response.content.decode()  # a typed password is never echoed
    mailbox.refresh_from_db()
    assert mailbox.imap_password_variable == "" and mailbox.imap_host == ""


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("SUPPORT@quietdesk.example", "Another mailbox has this address."),
        ("{customer}", "writes from this address"),
        ("{agent}", "writes from this address"),
    ],
)
def test_an_address_in_use_is_refused_next_to_the_field(world, mailbox, address, message):
    address = address.format(customer=world.customer.email, agent=world.agent.email)
    response = signed_in(world.admin).post("/settings/mailboxes/new", mailbox_form(address=address))
    assert response.status_code == 422
    assert message in field_error(response.content.decode(), "address")
    assert list(Mailbox.objects.all()) == [mailbox]


# --- A mailbox's own relay (SMTP) ------------------------------------------------------------

SMTP_SECRET = "smtp-s3cret-do-not-show"
SMTP_VARIABLE = "QUIETDESK_SMTP_PASSWORD_HELP"


def smtp_fields(**overrides: str) -> dict[str, str]:
    return {
        "smtp_host": "smtp.quietdesk.example",
        "smtp_port": "465",
        "smtp_security": "tls",
        "smtp_user": "help@quietdesk.example",
        "smtp_password_variable": SMTP_VARIABLE,
        **overrides,
    }


def test_an_admin_gives_a_mailbox_its_own_relay_and_takes_it_back(world, monkeypatch):
    monkeypatch.setenv(SMTP_VARIABLE, SMTP_SECRET)
    client = signed_in(world.admin)
    new = client.get("/settings/mailboxes/new").content.decode()
    assert "<legend>Outgoing mail (SMTP)</legend>" in new
    assert "<legend>Incoming mail (IMAP)</legend>" in new
    assert "Empty: mail from this address goes out through the installation&#x27;s relay." in new
    response = client.post("/settings/mailboxes/new", mailbox_form(**smtp_fields()))
    assert response.status_code == 302, response.content.decode()[:3000]
    box = Mailbox.objects.get()
    assert (box.smtp_host, box.smtp_port, box.smtp_security) == (
        "smtp.quietdesk.example",
        465,
        "tls",
    )
    assert (box.smtp_user, box.smtp_password_variable) == ("help@quietdesk.example", SMTP_VARIABLE)
    listing = client.get("/settings/mailboxes/").content.decode()
    assert "smtp.quietdesk.example:465" in listing
    edit = client.get(f"/settings/mailboxes/{box.public_id}/").content.decode()
    assert f"{SMTP_VARIABLE} is set in this server's environment." in edit
    assert 'value="smtp.quietdesk.example"' in edit and '<option value="tls" selected>' in edit
    assert SMTP_SECRET not in edit and SMTP_SECRET not in listing
    # Emptied: the installation's relay sends its mail again.
    response = client.post(
        f"/settings/mailboxes/{box.public_id}/",
        mailbox_form(**smtp_fields(smtp_host="", smtp_user="", smtp_password_variable="")),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    box.refresh_from_db()
    assert (box.smtp_host, box.smtp_user, box.smtp_password_variable) == ("", "", "")
    assert "The installation's relay" in client.get("/settings/mailboxes/").content.decode()
    event = AuditEvent.objects.filter(verb="mailbox.changed").get()
    assert event.before["smtp_password_variable"] == SMTP_VARIABLE
    assert SMTP_SECRET not in str(event.before) + str(event.after)


def test_a_typed_imap_password_is_not_echoed_when_another_field_stops_the_form(world, mailbox):
    response = signed_in(world.admin).post(
        f"/settings/mailboxes/{mailbox.public_id}/",
        mailbox_form(address=mailbox.address, imap_port="0", imap_password_variable="hunter2!"),
    )
    assert response.status_code == 422
    assert "hunter2" not in response.content.decode()


def test_wrong_smtp_settings_are_refused_next_to_their_fields(world, mailbox):
    url = f"/settings/mailboxes/{mailbox.public_id}/"
    client = signed_in(world.admin)
    response = client.post(
        url,
        mailbox_form(
            address=mailbox.address,
            **smtp_fields(smtp_host="smtps://smtp.quietdesk.example", smtp_password_variable="x!"),
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "only the server" in field_error(page, "smtp_host")
    assert "not the password" in field_error(page, "smtp_password_variable")
    assert 'value="x!"' not in page  # a typed password is never echoed
    # The form's own checks stop first; the password typed meanwhile is not shown either.
    response = client.post(
        url,
        mailbox_form(
            address=mailbox.address,
            **smtp_fields(smtp_security="ssl", smtp_port="0", smtp_password_variable="hunter2!"),
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Select a valid choice" in field_error(page, "smtp_security")
    assert "greater than or equal to 1" in field_error(page, "smtp_port")
    assert "hunter2" not in page
    mailbox.refresh_from_db()
    assert (mailbox.smtp_host, mailbox.smtp_password_variable) == ("", "")


def test_the_smtp_sign_in_rules_are_shown_at_their_fields(world, mailbox):
    response = signed_in(world.admin).post(
        f"/settings/mailboxes/{mailbox.public_id}/",
        mailbox_form(address=mailbox.address, **smtp_fields(smtp_host="", smtp_user="")),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "leave the user and the variable empty" in field_error(page, "smtp_host")
    assert "this password&#x27;s variable" in field_error(page, "smtp_user")
    assert f'value="{SMTP_VARIABLE}"' in page  # a name of ours is kept for the next try


def test_a_missing_smtp_password_variable_is_shown_never_a_value(world, mailbox, monkeypatch):
    monkeypatch.delenv(SMTP_VARIABLE, raising=False)
    monkeypatch.delenv(f"{SMTP_VARIABLE}_FILE", raising=False)
    mailbox.smtp_host = "smtp.quietdesk.example"
    mailbox.smtp_user = "support"
    mailbox.smtp_password_variable = SMTP_VARIABLE
    mailbox.save()
    client = signed_in(world.admin)
    listing = client.get("/settings/mailboxes/").content.decode()
    assert 'smtp.quietdesk.example:587 <span class="status">password variable not set' in listing
    edit = client.get(f"/settings/mailboxes/{mailbox.public_id}/").content.decode()
    assert (
        f"{SMTP_VARIABLE} is not set in this server's environment: mail from this address "
        "cannot be sent until it is."
    ) in edit
    monkeypatch.setenv(f"{SMTP_VARIABLE}_FILE", "/run/secrets/smtp")
    edit = client.get(f"/settings/mailboxes/{mailbox.public_id}/").content.decode()
    assert f"{SMTP_VARIABLE}_FILE is set" in edit and "/run/secrets/smtp" not in edit


def test_the_smtp_settings_speak_french(world, mailbox, monkeypatch):
    monkeypatch.delenv(SMTP_VARIABLE, raising=False)
    monkeypatch.delenv(f"{SMTP_VARIABLE}_FILE", raising=False)
    client = signed_in(world.admin, "fr")
    response = client.post(
        f"/settings/mailboxes/{mailbox.public_id}/",
        mailbox_form(address=mailbox.address, **smtp_fields(smtp_password_variable="")),
    )
    page = response.content.decode()
    assert "<legend>Courrier sortant (SMTP)</legend>" in page
    assert "Serveur SMTP" in page and "TLS dès le premier octet" in page
    assert "Nécessaire pour se connecter au serveur SMTP" in field_error(
        page, "smtp_password_variable"
    )
    client.post(
        f"/settings/mailboxes/{mailbox.public_id}/",
        mailbox_form(address=mailbox.address, **smtp_fields()),
    )
    edit = client.get(f"/settings/mailboxes/{mailbox.public_id}/").content.decode()
    assert (
        f"{SMTP_VARIABLE} n’est pas définie dans l’environnement de ce serveur\u00a0: le "
        "courrier de cette adresse ne peut pas être envoyé"
    ) in edit
    listing = client.get("/settings/mailboxes/").content.decode()
    assert "Envoyé par" in listing and "variable du mot de passe non définie" in listing


# --- Constant queries ------------------------------------------------------------------------


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/settings/teams/", "/settings/agents/", "/settings/mailboxes/"])
def test_the_lists_take_as_many_queries_for_many_rows_as_for_few(world, mailbox, url):
    client = signed_in(world.admin)
    few = queries_for(client, url)
    calendar = Calendar.objects.create(name="Extra", time_zone="UTC")
    for number in range(5):
        team = factories.TeamFactory(calendar=calendar)
        factories.AgentFactory(teams=[team, world.support])
        Mailbox.objects.create(address=f"box{number}@quietdesk.example", team=team)
    assert queries_for(client, url) == few
