"""The language switcher at the foot of every page."""

import pytest
from django.test import Client

from quietdesk.accounts.services import create_sign_in_link
from quietdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_visitor_switches_to_french_and_pages_follow(world):
    client = Client(headers={"accept-language": "en"})
    assert "Customer sign-in" in client.get("/").content.decode()
    switched = client.post("/language", {"language": "fr", "next": "/portal/sign-in?next=/x"})
    assert switched.status_code == 302 and switched.url == "/portal/sign-in?next=/x"
    page = client.get("/portal/sign-in").content.decode()
    assert '<html lang="fr">' in page and "M’envoyer un lien de connexion" in page


def test_a_customer_keeps_the_choice_on_their_profile_and_their_mail_follows(world):
    client = Client()
    client.force_login(world.customer)
    assert world.customer.language == "en"
    client.post("/language", {"language": "fr", "next": "/portal/"})
    world.customer.refresh_from_db()
    assert world.customer.language == "fr"
    assert "Mes demandes" in client.get("/portal/").content.decode()
    event = AuditEvent.objects.get(verb="person.language_changed")
    assert (event.before, event.after) == ({"language": "en"}, {"language": "fr", "why": "chosen"})


def test_unknown_languages_and_foreign_next_addresses_change_nothing(world):
    client = Client()
    client.force_login(world.agent)
    before = world.agent.language
    answer = client.post("/language", {"language": "xx", "next": "https://evil.example/"})
    assert answer.status_code == 302 and answer.url == "/"
    world.agent.refresh_from_db()
    assert world.agent.language == before
    assert client.get("/language").status_code == 405


def _sign_in_by_link(client: Client, person) -> None:
    made = create_sign_in_link(email=person.email)
    assert made is not None
    response = client.post(f"/portal/sign-in/{made[1]}")
    assert response.status_code == 302


def test_a_contact_met_by_mail_takes_the_browsers_language_on_the_first_visit_only(world):
    contact = world.customer  # created as mail creates contacts: in the mailbox's language
    assert contact.last_login is None and contact.language == "en"
    _sign_in_by_link(Client(headers={"accept-language": "de-CH, fr;q=0.8, en;q=0.5"}), contact)
    contact.refresh_from_db()
    assert contact.language == "fr"  # the first language of the browser that we speak
    event = AuditEvent.objects.get(verb="person.language_changed", target_id=contact.public_id)
    assert event.after == {"language": "fr", "why": "browser"}
    # Later visits from another browser keep it: it is theirs now (the switcher changes it).
    _sign_in_by_link(Client(headers={"accept-language": "en-US"}), contact)
    contact.refresh_from_db()
    assert contact.language == "fr"


def test_a_browser_that_names_no_language_we_speak_changes_nothing(world):
    world.customer.language = "fr"
    world.customer.save()
    _sign_in_by_link(Client(headers={"accept-language": "ja, zz;q=0.5"}), world.customer)
    world.customer.refresh_from_db()
    assert world.customer.language == "fr"
    assert not AuditEvent.objects.filter(verb="person.language_changed").exists()
