"""Searching through the one interface, on whichever backend the suite runs on."""

from __future__ import annotations

from typing import Any

import pytest

from quietdesk.accounts.models import EmailAddress, PhoneNumber
from quietdesk.errors import ValidationFailed
from quietdesk.search import queries
from quietdesk.search.queries import search
from quietdesk.search.query import QueryError
from quietdesk.tickets import services
from tests import factories
from tests.search.conftest import found, note, reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail(world: Any, open_ticket: Any) -> Any:
    """A few tickets in French and English, oldest first."""
    tickets = {
        "invoice": open_ticket("Facture de mars", "Bonjour, votre réponse sur la facture 1042 ?"),
        "printer": open_ticket("Printer jam", "Le papier est coincé dans l'imprimante."),
        "refund": open_ticket("Refund please", "I want a refund for order FR-2024-0042."),
        "invoices": open_ticket("Invoices", "Les factures de l'année sont prêtes."),
    }
    return tickets


# --- Query forms ------------------------------------------------------------------------------


def test_a_word_finds_the_tickets_that_contain_it(world: Any, mail: Any) -> None:
    assert found(world.admin, "imprimante") == ["Printer jam"]


def test_case_and_accents_do_not_matter_either_way(world: Any, mail: Any) -> None:
    assert found(world.admin, "REPONSE") == ["Facture de mars"]
    assert found(world.admin, "coince") == ["Printer jam"]
    assert found(world.admin, "prêtes") == ["Invoices"]
    assert found(world.admin, "PRETES") == ["Invoices"]


def test_a_prefix_finds_every_word_starting_with_it(world: Any, mail: Any) -> None:
    assert found(world.admin, "factur*") == ["Invoices", "Facture de mars"]


def test_an_exact_phrase_needs_the_words_in_that_order(world: Any, mail: Any) -> None:
    assert found(world.admin, '"papier est coincé"') == ["Printer jam"]
    assert found(world.admin, '"coincé est papier"') == []


def test_an_exclusion_removes_tickets(world: Any, mail: Any) -> None:
    assert found(world.admin, "factur* -mars") == ["Invoices"]
    assert found(world.admin, 'factur* -"de mars"') == ["Invoices"]


def test_or_offers_alternatives(world: Any, mail: Any) -> None:
    assert found(world.admin, "refund OR imprimante") == ["Refund please", "Printer jam"]
    assert found(world.admin, "(refund OR imprimante) papier") == ["Printer jam"]


def test_all_words_are_required(world: Any, mail: Any) -> None:
    assert found(world.admin, "papier refund") == []


def test_an_order_number_is_found_as_written(world: Any, mail: Any) -> None:
    assert found(world.admin, "FR-2024-0042") == ["Refund please"]
    assert found(world.admin, "fr-2024-0043") == []


def test_the_ticket_number_is_found(world: Any, mail: Any) -> None:
    number = mail["printer"].number
    assert found(world.admin, f"#{number}") == ["Printer jam"]


def test_cyrillic_is_found_without_case(world: Any, open_ticket: Any) -> None:
    open_ticket("Вопрос о счёте", "Здравствуйте, где мой СЧЁТ?")
    assert found(world.admin, "счет") == ["Вопрос о счёте"]
    assert found(world.admin, "здравств*") == ["Вопрос о счёте"]


def test_japanese_and_chinese_are_found_by_any_substring(world: Any, open_ticket: Any) -> None:
    open_ticket("配送について", "東京タワーの近くに住んでいます。请尽快发货")
    for part in ("東京タワー", "京タワ", "タワー", "京", "ワー", "住んで", "发货", "尽快"):
        assert found(world.admin, part) == ["配送について"], part
    assert found(world.admin, "大阪") == []
    assert found(world.admin, '"東京タワー の"') == []  # not in that order


def test_contacts_are_found_by_name_address_phone_and_organisation(
    world: Any, open_ticket: Any
) -> None:
    customer = factories.CustomerFactory(
        name="Amélie Poulain", email="amelie@montmartre.example", organisation=world.globex
    )
    PhoneNumber.objects.create(person=customer, number="+33 6 12 34 56 78")
    open_ticket("Question", "Bonjour", requester=customer)
    for query in (
        "amelie",
        "poulain",
        "amelie@montmartre.example",
        "globex",
        "0612345678",
        "+33612345678",
        "06.12.34.56.78",
    ):
        assert found(world.admin, query) == ["Question"], query


def test_quoted_history_and_every_kind_of_message_are_searched(
    world: Any, open_ticket: Any
) -> None:
    ticket = open_ticket("Call me", "Please call.")
    services.post_message(
        ticket=ticket, author=world.admin, body="Spoke with Marguerite", kind="call", via="phone"
    )
    reply(
        ticket,
        world.customer,
        "Thanks!\n\n> On Monday you wrote:\n> rendez-vous jeudi",
        via="email",
    )
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body="Transcript: bonjour chatbot",
        kind="chat",
        via="chat",
    )
    assert found(world.admin, "marguerite") == ["Call me"]
    assert found(world.admin, "jeudi") == ["Call me"]
    assert found(world.admin, "chatbot") == ["Call me"]


# --- Filters -------------------------------------------------------------------------------------


@pytest.fixture
def desk(world: Any, open_ticket: Any) -> Any:
    support = open_ticket("Support case", "facture perdue", team=world.support)
    billing = open_ticket(
        "Billing case",
        "facture double",
        team=world.billing,
        assignee=world.other_agent,
        tags=["vip"],
        channel="email",
        requester=world.outsider,
    )
    triage = open_ticket("Triage case", "facture inconnue", requester=world.colleague)
    services.change_status(ticket=support, actor=world.admin, status="open")
    return {"support": support, "billing": billing, "triage": triage}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("facture status:open", ["Support case"]),
        ("facture status:new,open", ["Triage case", "Billing case", "Support case"]),
        ("facture -status:open", ["Triage case", "Billing case"]),
        ("facture team:billing", ["Billing case"]),
        ("facture team:Support", ["Support case"]),
        ("facture team:none", ["Triage case"]),
        ("facture assignee:none", ["Triage case", "Support case"]),
        ("facture tag:vip", ["Billing case"]),
        ("facture -tag:VIP", ["Triage case", "Support case"]),
        ("facture channel:email", ["Billing case"]),
        ("facture org:globex", ["Billing case"]),
        ("facture org:acme", ["Triage case", "Support case"]),
        ("status:open", ["Support case"]),
        ("facture from:me", []),
    ],
)
def test_filters_narrow_the_results(world: Any, desk: Any, query: str, expected: list[str]) -> None:
    assert found(world.admin, query) == expected


def test_assignee_and_from_take_addresses_names_and_me(world: Any, desk: Any) -> None:
    assert found(world.admin, f"facture assignee:{world.other_agent.email}") == ["Billing case"]
    assert found(world.other_agent, "facture assignee:me") == ["Billing case"]
    assert found(world.admin, f"facture from:{world.colleague.email}") == ["Triage case"]
    assert found(world.admin, f'facture from:"{world.outsider.name}"') == ["Billing case"]
    assert found(world.colleague, "from:me") == ["Triage case"]


def test_from_finds_people_by_any_of_their_addresses_whatever_the_case(
    world: Any, desk: Any
) -> None:
    EmailAddress.objects.create(person=world.colleague, address="Compta.Perso@Example.org")
    assert found(world.admin, "facture from:compta.perso@EXAMPLE.org") == ["Triage case"]
    assert found(world.admin, f"facture from:{world.colleague.email.upper()}") == ["Triage case"]
    assert found(world.admin, "facture from:compta.perso") == ["Triage case"]  # before the @
    assert found(world.admin, "facture from:nobody@example.org") == []
    assert found(world.admin, "facture -from:compta.perso@example.org") == [
        "Billing case",
        "Support case",
    ]
    both = f"from:{world.colleague.email},{world.outsider.email}"
    assert found(world.admin, f"facture {both}") == ["Triage case", "Billing case"]


def test_the_plan_never_changes_what_is_found(
    world: Any, open_ticket: Any, clock: Any, monkeypatch: Any
) -> None:
    """Small scopes walk their documents, large ones the full-text matches: same results."""
    for day in range(1, 6):
        clock.set(2026, 1, day, 9)
        ticket = open_ticket(f"T{day}", "colis perdu" if day % 2 else "facture")
        reply(ticket, world.agent, "colis reparti")
    queries_and_people = [
        ("colis", {"requester": world.customer}),
        ("colis from:" + world.customer.email, {}),
        ("facture from:" + world.customer.email, {}),
        ("from:" + world.agent.email, {}),
    ]

    def everything() -> list[tuple[int, bool, list[str]]]:
        pages = []
        for q, options in queries_and_people:
            cursor = None
            for _page in range(2):
                page = search(world.admin, q, limit=2, cursor=cursor, **options)
                subjects = [hit.ticket.subject for hit in page.hits]
                pages.append((page.count, page.count_is_exact, subjects))
                cursor = page.next_cursor
        return pages

    narrow = everything()
    monkeypatch.setattr(queries, "NARROW_TICKETS", 1)
    monkeypatch.setattr(queries, "NARROW_DOCUMENTS", 1)
    assert everything() == narrow
    assert narrow[0] == (5, True, ["T5", "T4"])


def test_dates_are_days_in_the_readers_time_zone(world: Any, open_ticket: Any, clock: Any) -> None:
    clock.set(2026, 3, 1, 0, 30)  # 1 March 00:30 in Paris is still 28 February in UTC
    open_ticket("Early March", "commande")
    clock.set(2026, 3, 2, 12)
    open_ticket("Later", "commande")
    world.admin.time_zone = "Europe/Paris"
    assert found(world.admin, "commande after:2026-03-01 before:2026-03-02") == ["Early March"]
    assert found(world.admin, "commande after:2026-03-02") == ["Later"]
    world.admin.time_zone = "UTC"
    assert found(world.admin, "commande before:2026-03-01") == ["Early March"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("facture status:sleeping", "Unknown status sleeping at position 9"),
        ("facture team:nowhere", "No team called nowhere (position 9)"),
        ("facture channel:pigeon", "Unknown channel pigeon"),
        ("facture before:yesterday", "needs a date such as 2024-01-31"),
        ("facture assignee:nobody@example.com", "No team member"),
    ],
)
def test_filter_mistakes_are_explained(world: Any, desk: Any, query: str, words: str) -> None:
    with pytest.raises(QueryError) as caught:
        search(world.admin, query)
    assert words in str(caught.value.message)


# --- Who sees what --------------------------------------------------------------------------------


def test_customers_never_match_internal_notes(world: Any, open_ticket: Any) -> None:
    ticket = open_ticket("Delivery", "Where is my parcel?")
    note(ticket, world.admin, "Customer is rude, refund refused")
    services.post_message(
        ticket=ticket, author=world.admin, body="Called about refund", kind="call", via="phone"
    )
    assert found(world.admin, "refund") == ["Delivery"]
    assert found(world.customer, "refund") == []
    assert found(world.customer, "parcel -rude") == ["Delivery"]  # the note cannot exclude either


def test_snippets_for_customers_come_from_public_messages_only(
    world: Any, open_ticket: Any
) -> None:
    ticket = open_ticket("Parcel", "Where is my parcel?")
    note(ticket, world.admin, "parcel lost by the carrier, do not tell")
    hits = search(world.customer, "parcel").hits
    assert [h.kind for h in hits] == ["reply"]
    assert "carrier" not in hits[0].snippet_html
    staff_hits = search(world.admin, "parcel").hits
    assert staff_hits[0].kind == "note"
    assert "carrier" in staff_hits[0].snippet_html


def test_customers_never_find_a_colleagues_address_or_phone_number(
    world: Any, open_ticket: Any
) -> None:
    """Acme shares its tickets: a customer sees a colleague's requests, and may search
    them by subject, name or words, but not by the colleague's address or number (the
    service team can)."""
    PhoneNumber.objects.create(person=world.colleague, number="+33 6 98 76 54 32")
    open_ticket("Colleague's request", "Bonjour", requester=world.colleague)
    address = world.colleague.email
    for query in ("0698765432", f'"{address}"', "0698765432 OR bonjour", "colleague's"):
        assert found(world.admin, query) == ["Colleague's request"], query
    assert found(world.customer, "bonjour") == ["Colleague's request"]
    assert found(world.customer, world.colleague.name.split()[0]) == ["Colleague's request"]
    for query in ("0698765432", "+33698765432", f'"{address}"', "06987*"):
        assert found(world.customer, query) == [], query
        assert found(world.customer, query, order="relevance") == [], query
    # Excluding by a number they cannot search for excludes nothing either.
    assert found(world.customer, "bonjour -0698765432") == ["Colleague's request"]


def test_each_person_finds_only_the_tickets_they_may_see(world: Any, open_ticket: Any) -> None:
    open_ticket("Acme own", "licorne", requester=world.customer, team=world.support)
    open_ticket("Acme colleague", "licorne", requester=world.colleague, team=world.billing)
    open_ticket("Globex", "licorne", requester=world.outsider, team=world.billing)
    open_ticket("Globex colleague", "licorne", requester=world.outsider_colleague)
    expected = {
        "admin": {"Acme own", "Acme colleague", "Globex", "Globex colleague"},
        "agent": {"Acme own", "Globex colleague"},  # Support, and tickets of no team
        "other_agent": {"Acme colleague", "Globex", "Globex colleague"},
        "customer": {"Acme own", "Acme colleague"},  # Acme shares its tickets
        "outsider": {"Globex"},  # Globex does not
    }
    for who, subjects in expected.items():
        person = getattr(world, who)
        assert set(found(person, "licorne")) == subjects, who
        assert set(found(person, "licorne", order="relevance")) == subjects, who
    assert found(world.outsider, "licorne org:acme") == []
    assert found(world.outsider, "licorne team:billing") == []


def test_inactive_people_find_nothing(world: Any, open_ticket: Any) -> None:
    open_ticket("Secret", "licorne")
    world.admin.is_active = False
    assert found(world.admin, "licorne") == []


# --- Results --------------------------------------------------------------------------------------


def test_snippets_are_escaped_with_matches_marked(world: Any, open_ticket: Any) -> None:
    open_ticket("<b>Réponse</b>", "Voici la <script>alert(1)</script> réponse attendue.")
    hit = search(world.admin, "reponse").hits[0]
    assert hit.subject_html == "&lt;b&gt;<mark>Réponse</mark>&lt;/b&gt;"
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert "<mark>réponse</mark>" in hit.snippet_html


def test_a_snippet_shows_the_text_around_a_match_deep_in_a_long_message(
    world: Any, open_ticket: Any
) -> None:
    body = "remplissage " * 500 + "le mot caché est ornithorynque " + "suite " * 500
    open_ticket("Long", body)
    snippet = search(world.admin, "ornithorynque").hits[0].snippet_html
    assert snippet.startswith("… ")
    assert "<mark>ornithorynque</mark>" in snippet
    assert len(snippet) < 400


def test_prefixes_and_japanese_are_highlighted(world: Any, open_ticket: Any) -> None:
    open_ticket("Factures", "Les facturations du 東京タワー")
    snippet = search(world.admin, "factur* タワー").hits[0].snippet_html
    assert "<mark>facturations</mark>" in snippet
    assert "<mark>タワー</mark>" in snippet


def test_newest_match_first_by_default(world: Any, open_ticket: Any, clock: Any) -> None:
    old = open_ticket("Old", "commande")
    clock.set(2026, 11, 24, 9)
    open_ticket("New", "commande")
    clock.set(2026, 11, 25, 9)
    reply(old, world.customer, "encore la commande")
    assert found(world.admin, "commande") == ["Old", "New"]


def test_relevance_on_request(world: Any, open_ticket: Any) -> None:
    open_ticket("Commande", "commande commande commande")
    open_ticket("Autre", "une commande parmi beaucoup d'autres mots dans ce message")
    assert found(world.admin, "commande", order="relevance")[0] == "Commande"


def test_pages_walk_every_ticket_once(world: Any, open_ticket: Any, clock: Any) -> None:
    tickets = []
    for day in range(1, 8):
        clock.set(2026, 1, day, 9)
        tickets.append(open_ticket(f"T{day}", "colis"))
    clock.set(2026, 1, 20, 9)
    reply(tickets[0], world.customer, "colis toujours absent")  # T1 becomes the newest
    for order in ("newest", "relevance"):
        seen: list[str] = []
        cursor = None
        while True:
            page = search(world.admin, "colis", limit=2, cursor=cursor, order=order)
            seen += [hit.ticket.subject for hit in page.hits]
            assert page.count == 7 and page.count_is_exact
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(f"T{d}" for d in range(1, 8)), order
        if order == "newest":
            assert seen == ["T1", "T7", "T6", "T5", "T4", "T3", "T2"]


def test_a_large_count_is_honest(world: Any, open_ticket: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(queries, "COUNT_DOCUMENTS", 3)
    for index in range(5):
        open_ticket(f"T{index}", "colis")
    page = search(world.admin, "colis", limit=2)
    assert (page.count, page.count_is_exact) == (3, False)
    assert len(page.hits) == 2


def test_a_bad_cursor_is_refused(world: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        search(world.admin, "colis", cursor="nonsense")
    assert "cursor" in caught.value.fields
