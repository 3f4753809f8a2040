"""The customer journey read in French from start to end, in a browser set to fr-FR.

A visitor sends an intake form → the acknowledgement mail → the agent (who works in
French) answers with a canned reply in the customer's language → the reply mail → solved →
the rating mail → the one-click rating page. Every page and mail is checked for its French
words and for the absence of the English ones; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail as django_mail
from playwright.sync_api import Page, expect

from quietdesk.accounts.models import User
from quietdesk.intake import services as intake
from quietdesk.mail.models import Mailbox
from quietdesk.replies import services as replies
from quietdesk.tickets.models import Ticket

pytestmark = pytest.mark.browser

#: English words of the pages on the way; none may show to a French reader.
ENGLISH = [
    "Send",
    "Your email address",
    "Thank you, we have your request",
    "Sign out",
    "Inbox",
    "Internal note",
    "Public reply",
    "Very happy",
    "Send my rating",
    "Change language",
    "Hello",
    "Reply to this email",
    "We have received",
]


def no_english(page: Page) -> None:
    text = page.locator("body").inner_text()
    left = [words for words in ENGLISH if re.search(rf"\b{re.escape(words)}\b", text)]
    assert not left, f"English left on {page.url}: {left}"


def mail_to(address: str, containing: str) -> str:
    found = [m for m in django_mail.outbox if address in m.to and containing in m.body]
    assert found, f"no mail to {address} containing {containing!r}"
    body = found[-1].body
    assert not [words for words in ENGLISH if words in body], body
    return body


def test_a_french_customer_goes_from_form_to_rating_in_french(world, open_page, screenshot):
    Mailbox.objects.create(
        address="aide@quietdesk.example",
        team=world.support,
        signatures={"fr": "L’équipe Support", "en": "The Support team"},
    )
    intake.save_form(
        actor=world.admin,
        data=intake.FormIn(
            slug="export",
            titles={"en": "A problem with an export", "fr": "Un problème d’export"},
            team=world.support,
            fields=[
                intake.FieldIn(
                    key="summary",
                    kind="text",
                    labels={"en": "In one line", "fr": "En une ligne"},
                    required=True,
                ),
                intake.FieldIn(
                    key="details", kind="long_text", labels={"en": "Details", "fr": "Détails"}
                ),
            ],
        ),
    )
    replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(
            name="Export fixed",
            texts={
                "en": "Hello, ticket {{ ticket.number }} is fixed.",
                "fr": "Bonjour, le ticket {{ ticket.number }} est corrigé.",
            },
        ),
    )
    world.agent.language = "fr"
    world.agent.save()
    french = {"locale": "fr-FR", "timezone_id": "Europe/Paris"}

    # A visitor whose browser speaks French opens the form and sends it.
    visitor = open_page(**french)
    visitor.goto("/forms/export/")
    expect(visitor.get_by_role("heading", name="Un problème d’export")).to_be_visible()
    visitor.get_by_label("Votre adresse e-mail").fill("lea@client.example")
    visitor.get_by_label("Votre nom").fill("Léa Martin")
    visitor.get_by_label("En une ligne").fill("L’export est vide")
    visitor.get_by_label("Détails").fill("Le fichier CSV n’a aucune ligne.")
    no_english(visitor)
    screenshot(visitor, "1-formulaire")
    visitor.get_by_role("button", name="Envoyer").click()
    expect(
        visitor.get_by_role("heading", name="Merci, nous avons bien reçu votre demande")
    ).to_be_visible()
    no_english(visitor)
    screenshot(visitor, "2-envoye")
    contact = User.objects.get(email="lea@client.example")
    assert contact.language == "fr"  # the language the form was read in
    ticket = Ticket.objects.get(requester=contact)
    ack = mail_to("lea@client.example", f"ticket n° {ticket.number}")
    assert "Bonjour," in ack and "L’équipe Support" in ack

    # The agent, who works in French, answers with the canned reply in French.
    agent = open_page(**french)
    agent.goto("/login/")
    agent.get_by_label("Adresse e-mail").fill(world.agent.email)
    agent.get_by_label("Mot de passe").fill("correct horse battery staple")
    agent.get_by_role("button", name="Se connecter").click()
    expect(agent.get_by_role("heading", name="Boîte de réception")).to_be_visible()
    no_english(agent)
    agent.get_by_role("link", name="Mes équipes").first.click()
    agent.get_by_role("link", name=re.compile("L’export est vide")).click()
    agent.get_by_label("Réponse type").select_option(label="Export fixed")
    agent.get_by_role("button", name="Insérer").click()
    expect(agent.get_by_label("Message")).to_have_value(
        f"Bonjour, le ticket {ticket.number} est corrigé."
    )
    expect(
        agent.get_by_role("status").filter(has_text="Insérée en français, la langue du client.")
    ).to_be_visible()
    agent.keyboard.press("Escape")
    agent.locator("h1").first.click()
    agent.keyboard.press("?")  # the shortcuts list, from the French script catalogue
    expect(agent.get_by_role("heading", name="Raccourcis clavier")).to_be_visible()
    screenshot(agent, "3-raccourcis")
    agent.get_by_role("button", name="Fermer").click()
    no_english(agent)
    screenshot(agent, "4-reponse")
    agent.get_by_role("button", name="Envoyer", exact=True).click()
    expect(agent.get_by_text("Réponse envoyée.")).to_be_visible()
    reply = mail_to("lea@client.example", "est corrigé")
    assert "Répondez à cet e-mail" in reply and "L’équipe Support" in reply

    # Solved: the rating mail, then the one-click page, both in French.
    agent.locator(".sidebar select[name=status]").select_option(label="Résolu")
    agent.locator(".sidebar").get_by_role("button", name="Enregistrer", exact=True).click()
    expect(agent.locator(".ticket-head .status")).to_have_text("Résolu")
    asked = mail_to("lea@client.example", "/rate/")
    assert "Un clic suffit" in asked and "Très satisfait" in asked
    happy = re.search(r"https?://[^/\s]+(/rate/\S+\?score=5)", asked)[1]
    rating = open_page(**french)
    rating.goto(happy)
    expect(rating.get_by_label("Très satisfait")).to_be_checked()
    rating.get_by_label("Un commentaire (facultatif)").fill("Rapide et clair, merci.")
    no_english(rating)
    screenshot(rating, "5-evaluation")
    rating.get_by_role("button", name="Envoyer mon évaluation").click()
    expect(rating.get_by_role("heading", name="Merci pour votre évaluation")).to_be_visible()
    no_english(rating)
    screenshot(rating, "6-merci")
