"""The search pages: the workspace's, the portal's, and each customer's history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from quietdesk.kb import services as kb
from quietdesk.tickets import services
from quietdesk.tickets.models import Ticket
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def open_ticket(world, subject: str, body: str, requester=None, **kwargs) -> Ticket:
    return services.create_ticket(
        actor=world.agent,
        requester=requester or world.customer,
        subject=subject,
        body=body,
        channel=kwargs.pop("channel", "email"),
        team=world.support,
        **kwargs,
    )


def test_an_agent_finds_tickets_with_highlighted_snippets_and_accents_ignored(world):
    ticket = open_ticket(world, "Facture en double", "La réponse sur la facture 2026-114 manque.")
    open_ticket(world, "Autre chose", "Rien à voir.")
    page = signed_in(world.agent).get("/search/", {"q": "reponse"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/tickets/{ticket.public_id}/" in html
    assert "<mark>réponse</mark>" in html
    assert "1 ticket found" in html and "Autre chose" not in html


def test_the_search_box_asks_again_as_one_types_and_gets_only_the_results(world):
    open_ticket(world, "Imprimante", "Le bourrage papier revient.")
    response = signed_in(world.agent).get(
        "/search/",
        {"q": "bourrage"},
        headers={"HX-Request": "true", "HX-Target": "search-results"},
    )
    html = response.content.decode()
    assert html.startswith('<div id="search-results"')
    assert "<mark>bourrage</mark>" in html and "<html" not in html


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('"never closed', "never closed"),
        ("( facture", "never closed"),
        ("-facture", "add at least one word"),
        ("x" * 1200, "too long"),
        ("facture\x00", "control character"),
    ],
)
def test_a_query_that_cannot_be_understood_is_explained_in_words(world, query, words):
    client = signed_in(world.agent)
    page = client.get("/search/", {"q": query})
    assert page.status_code == 400
    html = page.content.decode()
    assert words in html and 'role="alert"' in html and 'aria-invalid="true"' in html
    # As-you-type: the same words in the block, so that the box shows them.
    block = client.get(
        "/search/", {"q": query}, headers={"HX-Request": "true", "HX-Target": "search-results"}
    )
    assert block.status_code == 200 and words in block.content.decode()


def test_customers_search_their_own_requests_never_notes_and_get_articles(world):
    mine = open_ticket(world, "Export comptable", "L'export comptable est vide.")
    services.post_message(
        ticket=mine, author=world.agent, body="Secret comptable interne", kind="note", via="web"
    )
    open_ticket(
        world, "Export comptable", "Export comptable chez Globex.", requester=world.outsider
    )
    article = kb.save_article(
        actor=world.admin,
        data=kb.ArticleIn(
            slug="export-comptable",
            titles={"fr": "Réussir son export comptable", "en": "Accounting export"},
            bodies={"fr": "Choisissez la période.", "en": "Choose the period."},
        ),
    )
    kb.publish_article(actor=world.admin, article=article)
    client = signed_in(world.customer)
    html = client.get("/portal/search", {"q": "comptable"}).content.decode()
    assert f"/portal/requests/{mine.public_id}/" in html
    assert "Globex" not in html and "Secret" not in html
    assert "1 ticket found" in html
    assert "/help/export-comptable/" in html
    assert "No ticket matches." in client.get("/portal/search", {"q": "secret"}).content.decode()
    # The workspace's search is not theirs.
    assert client.get("/search/", {"q": "comptable"}).status_code == 302


def test_the_customer_page_shows_every_conversation_with_counts_per_year(world):
    old = open_ticket(world, "Ancienne demande", "Commande 4411 perdue.")
    Ticket.objects.filter(pk=old.pk).update(created_at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    recent = open_ticket(world, "Nouvelle demande", "Commande 4412 en retard.", channel="portal")
    colleague = open_ticket(world, "Demande du collègue", "Commande 4411 aussi.", world.colleague)
    other = open_ticket(world, "Commande 4411", "Même numéro.", requester=world.outsider)
    client = signed_in(world.agent)
    html = client.get(f"/customers/{world.customer.public_id}/").content.decode()
    assert "2 conversations" in html
    assert "<strong>2019</strong> 1" in html
    assert html.index(recent.subject) < html.index(old.subject)  # newest first
    assert colleague.subject in html  # their organisation's
    assert other.subject not in html
    # The search box there looks only in this customer's conversations.
    found = client.get(f"/customers/{world.customer.public_id}/", {"q": "4411"}).content.decode()
    results = found[found.index('id="search-results"') :]
    results = results[: results.index("</div>")]
    assert f"/tickets/{old.public_id}/" in results
    assert other.public_id not in results and colleague.public_id not in results
    # The team's answers on their tickets are part of their history too.
    services.post_message(ticket=recent, author=world.agent, body="Colis 9931 reparti.", via="web")
    answered = client.get(f"/customers/{world.customer.public_id}/", {"q": "9931"})
    assert f"/tickets/{recent.public_id}/" in answered.content.decode()


def test_the_customer_page_counts_years_in_the_readers_time_zone(world):
    new_year = open_ticket(world, "Bonne année", "Première demande.")
    # 23:30 on 31 December in UTC is already the new year in Paris.
    at = dt.datetime(2023, 12, 31, 23, 30, tzinfo=dt.UTC)
    Ticket.objects.filter(pk=new_year.pk).update(created_at=at)
    old = open_ticket(world, "L'an passé", "Seconde demande.")
    Ticket.objects.filter(pk=old.pk).update(created_at=at - dt.timedelta(hours=1))
    world.agent.time_zone = "Europe/Paris"
    world.agent.save(update_fields=["time_zone"])
    html = signed_in(world.agent).get(f"/customers/{world.customer.public_id}/").content.decode()
    assert "<strong>2024</strong> 1" in html and "<strong>2023</strong> 1" in html
    world.agent.time_zone = "UTC"
    world.agent.save(update_fields=["time_zone"])
    html = signed_in(world.agent).get(f"/customers/{world.customer.public_id}/").content.decode()
    assert "<strong>2023</strong> 2" in html and "2024" not in html
    # A history reaching far back is counted too.
    ancient = open_ticket(world, "Il y a longtemps", "Troisième demande.")
    Ticket.objects.filter(pk=ancient.pk).update(created_at=dt.datetime(2001, 5, 1, tzinfo=dt.UTC))
    html = signed_in(world.agent).get(f"/customers/{world.customer.public_id}/").content.decode()
    assert "3 conversations" in html
    assert html.index("<strong>2023</strong> 2") < html.index("<strong>2001</strong> 1")


def test_the_customer_page_is_for_the_service_team_and_reads_few_queries(world):
    assert signed_in(world.customer).get(f"/customers/{world.outsider.public_id}/").status_code == (
        302
    )
    assert signed_in(world.agent).get("/customers/nope/").status_code == 404
    busy = CustomerFactory(organisation=world.acme)
    quiet = CustomerFactory(organisation=world.acme)
    for number in range(30):
        open_ticket(world, f"Demande {number}", "Texte.", requester=busy)
    for number in range(3):
        open_ticket(world, f"Demande {number}", "Texte.", requester=quiet)
    client = signed_in(world.agent)

    def queries(person) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/customers/{person.public_id}/").status_code == 200
        return len(captured)

    assert queries(busy) == queries(quiet)


def test_similar_tickets_show_how_they_were_answered_and_only_what_the_agent_sees(world):
    before = open_ticket(world, "Bourrage papier imprimante", "L'imprimante du bureau bourre.")
    services.post_message(
        ticket=before,
        author=world.agent,
        body="Retirez le bac, nettoyez le rouleau d'entraînement, puis relancez.",
        via="web",
    )
    services.change_status(ticket=before, actor=world.agent, status="solved")
    unrelated = open_ticket(world, "Facture de mars", "Le montant est faux.")
    hidden = services.create_ticket(
        actor=world.other_agent,
        requester=world.customer,
        subject="Imprimante bourrage papier",
        body="Chez Billing.",
        channel="email",
        team=world.billing,
    )
    now = open_ticket(world, "Imprimante : bourrage papier", "Encore un bourrage de papier.")
    client = signed_in(world.agent)
    page = client.get(f"/tickets/{now.public_id}/").content.decode()
    assert f"/tickets/{now.public_id}/similar" in page  # asked for once the page is shown
    panel = client.get(f"/tickets/{now.public_id}/similar").content.decode()
    assert f"/tickets/{before.public_id}/" in panel
    assert "nettoyez le rouleau" in panel and "Solved" in panel
    assert now.public_id not in panel and unrelated.public_id not in panel
    assert hidden.public_id not in panel  # Billing's: not the agent's to see
    assert signed_in(world.customer).get(f"/tickets/{now.public_id}/similar").status_code == 302


def test_what_matched_is_shown_as_text_never_as_markup(world):
    open_ticket(world, "<img src=x onerror=alert(1)> zorglub", "<script>alert(2)</script> zorglub")
    html = signed_in(world.agent).get("/search/", {"q": "zorglub"}).content.decode()
    results = html[html.index('id="search-results"') :]
    assert "<img src=x" not in results and "<script>alert" not in results
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>zorglub</mark>" in results


def test_a_forged_cursor_is_refused_in_words(world):
    open_ticket(world, "Zorglub", "Zorglub.")
    page = signed_in(world.agent).get("/search/", {"q": "zorglub", "cursor": "bm9wZQ"})
    assert page.status_code == 400
    assert "This cursor is not valid; start again without it." in page.content.decode()
