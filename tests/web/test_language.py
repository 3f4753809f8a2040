"""The language switcher at the foot of every page."""

import pytest
from django.test import Client

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
    assert (event.before, event.after) == ({"language": "en"}, {"language": "fr"})


def test_unknown_languages_and_foreign_next_addresses_change_nothing(world):
    client = Client()
    client.force_login(world.agent)
    before = world.agent.language
    answer = client.post("/language", {"language": "xx", "next": "https://evil.example/"})
    assert answer.status_code == 302 and answer.url == "/"
    world.agent.refresh_from_db()
    assert world.agent.language == before
    assert client.get("/language").status_code == 405
