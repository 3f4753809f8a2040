"""The help centre, the article page and the suggestions, as browsers and htmx get them."""

import re

import pytest
from django.test import Client

from quietdesk.intake import services as intake

pytestmark = pytest.mark.django_db


def signed_in(person, language: str = "en") -> Client:
    person.language = language
    person.save()
    client = Client(headers={"accept-language": language})
    client.force_login(person)
    return client


def visitor(language: str = "en") -> Client:
    return Client(headers={"accept-language": language})


def test_the_help_centre_lists_published_public_articles_by_category(world, library):
    page = visitor().get("/help/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Billing" in html and "Change the address on an invoice" in html
    assert "Export your orders" in html
    assert "Refunding a double charge" not in html  # internal
    assert "Next year" not in html and "upcoming-prices" not in html  # draft
    assert '<link rel="canonical" href="http://testserver/help/">' in html


def test_the_team_also_finds_internal_articles_in_the_help_centre(world, library):
    html = signed_in(world.agent).get("/help/").content.decode()
    assert "Refunding a double charge" in html and "Internal" in html
    assert "Next year" not in html  # drafts are in the team's list, not here


def test_a_search_of_the_help_centre_finds_articles_and_is_not_indexed(world, library):
    html = visitor("fr").get("/help/?q=facture").content.decode()
    assert "Changer l&#x27;adresse d&#x27;une facture" in html
    assert '<meta name="robots" content="noindex">' in html
    html = visitor().get("/help/?q=zebra").content.decode()
    assert "No article matches these words" in html


def test_an_article_page_is_plain_and_indexable(world, library):
    page = visitor("fr").get("/help/invoice-address/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Changer l&#x27;adresse d&#x27;une facture · " in html
    assert (
        '<meta name="description" content="Envoyez-nous la nouvelle adresse : nous rééditons '
        'la facture.">' in html
    )
    assert '<link rel="canonical" href="http://testserver/help/invoice-address/?lang=fr">' in html
    assert 'hreflang="en" href="http://testserver/help/invoice-address/?lang=en"' in html
    assert '<html lang="fr">' in html and '<article lang="fr"' in html
    assert "<strong>nouvelle adresse</strong>" in html
    assert "noindex" not in html
    article = html.split("<article", 1)[1].split("</article>", 1)[0]
    assert "<script" not in article and "hx-" not in article  # nothing to run
    # ?lang= chooses another version; the note offers the reader's own.
    english = visitor("fr").get("/help/invoice-address/?lang=en").content.decode()
    assert '<article lang="en"' in english and "Change the address on an invoice" in english
    assert "pas encore" not in english  # the reader's language exists: no fallback note


def test_an_article_without_the_readers_language_says_so(world, library):
    html = visitor("fr").get("/help/export-orders/").content.decode()
    assert '<html lang="fr">' in html and '<article lang="en"' in html
    assert "Export your orders" in html
    assert re.search(r"class=\"notice\"[^>]*>[^<]*anglais", html), "fallback note in French"


def test_drafts_and_internal_articles_do_not_exist_for_visitors_and_customers(world, library):
    for client in (visitor(), signed_in(world.customer)):
        for slug in ("upcoming-prices", "refunds", "no-such-article"):
            page = client.get(f"/help/{slug}/")
            assert page.status_code == 404, slug
            assert "Secret pricing" not in page.content.decode()
            assert "second charge" not in page.content.decode()


def test_the_team_previews_a_draft_which_is_never_indexed(world, library):
    html = signed_in(world.agent).get("/help/upcoming-prices/").content.decode()
    assert "Secret pricing" in html
    assert "Draft: only the service team sees this page" in html
    assert '<meta name="robots" content="noindex">' in html


def test_an_article_body_cannot_run_script_on_its_page(world):
    from tests.kb.conftest import write

    write(
        world,
        "hostile",
        {"en": '<script>alert("title")</script>'},
        {"en": '<script>alert("x")</script><img src=x onerror=alert(1)>Text'},
    )
    html = visitor().get("/help/hostile/").content.decode()
    assert "<script>alert" not in html and "onerror" not in html
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in html


# --- Suggestions -------------------------------------------------------------------------------


def test_suggestions_list_public_articles_for_what_is_typed(world, library):
    html = visitor().get("/help/suggest", {"q": "invoice"}).content.decode()
    assert "Change the address on an invoice" in html
    assert "Next year" not in html and "Refunding" not in html
    assert 'target="_blank"' in html
    assert visitor().get("/help/suggest", {"q": ""}).content.decode().strip() == ""


def test_suggestions_read_an_intake_forms_answer_field(world, library):
    html = visitor("fr").get("/help/suggest", {"answer-subject": "ma facture"}).content.decode()
    assert "Changer l&#x27;adresse d&#x27;une facture" in html


def test_an_intake_form_asks_for_suggestions_while_its_first_line_is_typed(world, library):
    intake.save_form(
        actor=world.admin,
        data=intake.FormIn(
            slug="billing",
            titles={"en": "Billing question"},
            fields=[
                intake.FieldIn(
                    key="product",
                    kind="choice",
                    labels={"en": "Product"},
                    choices=[intake.ChoiceIn("a", {"en": "A"})],
                ),
                intake.FieldIn(key="subject", kind="text", labels={"en": "Subject"}),
                intake.FieldIn(key="other", kind="text", labels={"en": "Other"}),
            ],
        ),
    )
    html = visitor().get("/forms/billing/").content.decode()
    assert html.count('hx-get="/help/suggest"') == 1
    subject = re.search(r'<input id="answer-subject"[^>]*>', html)
    assert subject is not None
    assert 'hx-trigger="keyup changed delay:400ms"' in subject.group(0)
    assert 'hx-target="#kb-suggestions"' in subject.group(0)
    assert '<div id="kb-suggestions" aria-live="polite"></div>' in html


# --- In the ticket composer --------------------------------------------------------------------


@pytest.fixture
def ticket(world):
    from tests import factories

    return factories.ticket(requester=world.customer, subject="Wrong address on my invoice")


def test_the_composer_suggests_published_articles_for_the_tickets_subject(world, library, ticket):
    agent = signed_in(world.agent)
    page = agent.get(f"/tickets/{ticket.public_id}/")
    assert f'hx-get="/tickets/{ticket.public_id}/articles"' in page.content.decode()
    html = agent.get(f"/tickets/{ticket.public_id}/articles").content.decode()
    assert "Change the address on an invoice" in html
    assert f'value="link:{library.invoices.public_id}"' in html
    assert f'value="text:{library.invoices.public_id}"' in html
    assert 'form="composer"' in html
    searched = agent.get(f"/tickets/{ticket.public_id}/articles", {"q": "refund"})
    html = searched.content.decode()
    assert "Refunding a double charge" in html and "Internal" in html
    assert f'value="link:{library.refunds.public_id}"' not in html  # customers cannot open it
    assert (
        "Next year"
        not in agent.get(f"/tickets/{ticket.public_id}/articles", {"q": "prices"}).content.decode()
    )


def test_customers_and_other_teams_get_no_composer_articles(world, library, ticket):
    response = signed_in(world.customer).get(f"/tickets/{ticket.public_id}/articles")
    assert response.status_code == 302 and response.url == "/portal/"
    ticket.team = world.billing
    ticket.save()
    response = signed_in(world.agent).get(f"/tickets/{ticket.public_id}/articles")
    assert response.status_code == 404


def test_inserting_a_link_adds_it_to_the_draft_in_the_customers_language(world, library, ticket):
    world.customer.language = "fr"
    world.customer.save()
    agent = signed_in(world.agent)
    answer = agent.post(
        f"/tickets/{ticket.public_id}/articles/insert",
        {"body": "Bonjour,", "insert": f"link:{library.invoices.public_id}"},
        headers={"hx-request": "true"},
    )
    html = answer.content.decode()
    assert '<textarea id="composer-body"' in html
    assert (
        "Bonjour,\n\nChanger l&#x27;adresse d&#x27;une facture: "
        "http://testserver/help/invoice-address/?lang=fr</textarea>"
    ) in html
    assert 'id="canned-note"' in html and "Added a link" in html


def test_inserting_the_text_adds_it_plain_and_says_when_another_language_is_used(
    world, library, ticket
):
    world.customer.language = "fr"
    world.customer.save()
    answer = signed_in(world.agent).post(
        f"/tickets/{ticket.public_id}/articles/insert",
        {"body": "", "insert": f"text:{library.export.public_id}"},
        headers={"hx-request": "true"},
    )
    html = answer.content.decode()
    assert ">Export your orders\n\nAsk us for a CSV export of your orders.</textarea>" in html
    assert "no version in the customer" in html


def test_an_internal_articles_link_and_an_unknown_article_are_refused(world, library, ticket):
    agent = signed_in(world.agent)
    for insert in (f"link:{library.refunds.public_id}", f"text:{library.draft.public_id}", "x"):
        html = agent.post(
            f"/tickets/{ticket.public_id}/articles/insert",
            {"body": "Kept", "insert": insert},
            headers={"hx-request": "true"},
        ).content.decode()
        assert ">Kept</textarea>" in html, insert


def test_without_htmx_the_insert_keeps_the_draft_for_the_ticket_page(world, library, ticket):
    agent = signed_in(world.agent)
    answer = agent.post(
        f"/tickets/{ticket.public_id}/articles/insert",
        {"body": "", "insert": f"text:{library.invoices.public_id}"},
    )
    assert answer.status_code == 302
    page = agent.get(answer.url).content.decode()
    assert "Send us the new address; we reissue the invoice.</textarea>" in page
