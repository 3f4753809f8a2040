"""Intake forms in the browser's terms: prefilled links, visitors, the builder; ratings."""

import re

import pytest
from django.core import mail as django_mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from quietdesk.accounts.models import User
from quietdesk.intake import services as intake
from quietdesk.intake.models import IntakeForm, Submission
from quietdesk.mail.models import Mailbox
from quietdesk.ratings import services as ratings
from quietdesk.ratings.models import Rating
from quietdesk.tickets import services
from quietdesk.tickets.models import Ticket
from quietdesk.tickets.states import Status
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def form(world) -> IntakeForm:
    Mailbox.objects.create(address="help@quietdesk.example", team=world.support)
    return intake.save_form(
        actor=world.admin,
        data=intake.FormIn(
            slug="orders",
            titles={"en": "A question about an order", "fr": "Une question sur une commande"},
            intros={"en": "We answer within a day.", "fr": "Nous répondons sous un jour."},
            team=world.support,
            fields=[
                intake.FieldIn(
                    key="order", kind="text", labels={"en": "Order number", "fr": "Numéro"}
                ),
                intake.FieldIn(
                    key="product",
                    kind="choice",
                    labels={"en": "Product", "fr": "Produit"},
                    required=True,
                    choices=[
                        intake.ChoiceIn("chair", {"en": "Chair", "fr": "Chaise"}),
                        intake.ChoiceIn("desk", {"en": "Desk", "fr": "Bureau"}),
                    ],
                ),
                intake.FieldIn(
                    key="question",
                    kind="long_text",
                    labels={"en": "Your question", "fr": "Votre question"},
                    helps={"en": "As much detail as you like."},
                    required=True,
                ),
                intake.FieldIn(key="photo", kind="file", labels={"en": "Photo"}),
            ],
        ),
    )


def test_a_prefilled_link_opens_the_form_ready_to_send(form):
    page = Client().get("/forms/orders/?product=desk&order=A-42&email=ana@example.org&name=Ana")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<option value="desk" selected>Desk</option>' in html
    assert 'name="answer-order" maxlength="300" value="A-42"' in html
    assert 'value="ana@example.org"' in html
    assert "As much detail as you like." in html
    assert 'enctype="multipart/form-data"' in html


def test_a_visitor_sends_a_form_and_is_told_the_number_and_when_to_expect_an_answer(
    form, django_capture_on_commit_callbacks
):
    visitor = Client(headers={"accept-language": "fr"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = visitor.post(
            "/forms/orders/",
            {
                "email": "Ana@Example.org",
                "name": "Ana Lima",
                "answer-order": "A-42",
                "answer-product": "desk",
                "answer-question": "Le plateau est rayé.",
                "answer-photo": SimpleUploadedFile("rayure.jpg", b"\xff\xd8jpeg", "image/jpeg"),
            },
        )
    assert sent.status_code == 302 and sent.url == "/forms/orders/sent"
    ticket = Ticket.objects.get()
    assert ticket.requester.email == "ana@example.org" and ticket.requester.language == "fr"
    assert ticket.team == form.team and ticket.channel == "web_form"
    assert [a["value"] for a in ticket.submission.answers] == [
        "A-42",
        "Bureau",
        "Le plateau est rayé.",
        "rayure.jpg",
    ]
    thanks = visitor.get(sent.url).content.decode()
    assert f"n°\u00a0{ticket.number}" in thanks and "Le plateau" not in thanks
    # Acknowledged by mail, in the language the visitor read the form in.
    (ack,) = django_mail.outbox
    assert ack.to == ["ana@example.org"]
    assert f"#{ticket.number}" in ack.subject and "Nous avons bien reçu" in ack.subject
    # The address was only typed: the mail repeats nothing the visitor wrote.
    assert "A-42" not in ack.subject and "Ana Lima" not in ack.body
    assert "rayé" not in ack.body
    agent_page = signed_in(form.team.members.first()).get(f"/tickets/{ticket.public_id}/")
    assert "not verified" in agent_page.content.decode()
    # The thank-you page is shown once, to this browser only.
    assert f"{ticket.number}" not in visitor.get(sent.url).content.decode()


def test_refused_answers_are_shown_next_to_their_fields_and_kept(form):
    refused = Client().post(
        "/forms/orders/",
        {"email": "ana@example.org", "answer-order": "A-42", "answer-product": "sofa"},
    )
    html = refused.content.decode()
    assert refused.status_code == 422
    assert "Choose one of the options offered." in html
    assert "This field is required." in html
    assert 'value="A-42"' in html and 'value="ana@example.org"' in html
    assert not Ticket.objects.exists()


def test_robots_and_floods_open_no_tickets_and_make_no_contacts(form, settings):
    answers = {"email": "bot@example.org", "answer-product": "desk", "answer-question": "Hi"}
    trapped = Client().post("/forms/orders/", {**answers, "website": "http://spam.example"})
    assert trapped.status_code == 302 and not Ticket.objects.exists()
    client = Client()
    # Refused tries count too, and create no contact.
    for n in range(5):
        refused = client.post("/forms/orders/", {"email": f"r{n}@example.org"})
        assert refused.status_code == 422
    assert not User.objects.filter(email__startswith="r").exists()
    for _ in range(4):
        assert client.post("/forms/orders/", answers).status_code == 302
    assert client.post("/forms/orders/", answers).status_code == 429
    assert Ticket.objects.count() == 4


def test_a_signed_in_customer_lands_on_their_request_with_the_answers(world, form):
    client = signed_in(world.customer)
    assert "A question about an order" in client.get("/portal/new").content.decode()
    sent = client.post("/forms/orders/", {"answer-product": "chair", "answer-question": "Wobbly"})
    ticket = Ticket.objects.get()
    assert ticket.requester == world.customer
    assert sent.url == f"/portal/requests/{ticket.public_id}/"
    page = client.get(sent.url).content.decode()
    assert "Wobbly" in page and "Chair" in page
    agent_page = signed_in(world.agent).get(f"/tickets/{ticket.public_id}/").content.decode()
    assert "Answers to the form" in agent_page and "Chair" in agent_page


def test_unpublished_and_members_only_forms(world, form):
    form.allows_anonymous = False
    form.save()
    asked = Client().get("/forms/orders/?product=desk")
    assert asked.status_code == 302 and asked.url.startswith("/portal/sign-in?next=")
    assert "%3Fproduct%3Ddesk" in asked.url  # the prefilled answers survive the sign-in
    form.is_active = False
    form.save()
    assert signed_in(world.customer).get("/forms/orders/").status_code == 404
    assert Client().get("/forms/orders/").status_code == 404
    assert signed_in(world.admin).get("/forms/orders/").status_code == 200  # to try it out
    assert Client().get("/forms/nothing-here/").status_code == 404


def builder_post(**overrides) -> dict[str, str]:
    data = {
        "slug": "returns",
        "title-en": "Return an item",
        "title-fr": "Retourner un article",
        "rows": "3",
        "is_active": "on",
        "allows_anonymous": "on",
        "field-0-key": "reason",
        "field-0-kind": "choice",
        "field-0-order": "2",
        "field-0-label-en": "Reason",
        "field-0-label-fr": "Motif",
        "field-0-choices": "broken | Broken | Cassé\nwrong | Wrong item | Mauvais article",
        "field-0-required": "on",
        "field-1-key": "order",
        "field-1-kind": "text",
        "field-1-order": "1",
        "field-1-label-en": "Order number",
    }
    data.update(overrides)
    return data


def test_an_admin_builds_a_form_in_the_settings(world):
    admin = signed_in(world.admin)
    assert signed_in(world.agent).get("/settings/forms/").status_code == 403
    assert admin.get("/settings/forms/new").status_code == 200
    saved = admin.post("/settings/forms/new", {**builder_post(), "team": world.billing.public_id})
    built = IntakeForm.objects.get()
    assert saved.status_code == 302 and saved.url == f"/settings/forms/{built.public_id}/"
    assert built.team == world.billing and built.titles["fr"] == "Retourner un article"
    fields = list(built.fields.all())
    assert [f.key for f in fields] == ["order", "reason"]  # ordered by their numbers
    assert fields[1].choices[1] == {
        "value": "wrong",
        "labels": {"en": "Wrong item", "fr": "Mauvais article"},
    }
    assert fields[1].required and not fields[0].required
    page = admin.get(saved.url).content.decode()
    assert "broken | Broken | Cassé" in page and "/forms/returns/" in page
    # Removing a field.
    admin.post(saved.url, builder_post(**{"field-1-remove": "on"}))
    assert [f.key for f in built.fields.all()] == ["reason"]
    assert "Return an item" in admin.get("/settings/forms/").content.decode()


def test_a_broken_form_is_explained_next_to_its_row_and_nothing_is_saved(world):
    admin = signed_in(world.admin)
    refused = admin.post(
        "/settings/forms/new",
        builder_post(**{"field-0-choices": "", "field-1-key": "reason"}),
    )
    html = refused.content.decode()
    assert refused.status_code == 422
    assert "A choice field needs at least one choice." in html
    assert "Two fields cannot share a key." in html
    assert 'value="Retourner un article"' in html  # what was typed is kept
    assert not IntakeForm.objects.exists()
    gone = admin.post("/settings/forms/new", {**builder_post(), "team": "no-such-team"})
    assert gone.status_code == 422 and "This team no longer exists" in gone.content.decode()
    assert not IntakeForm.objects.exists()


def test_deleting_a_form_keeps_its_tickets_answers(world, form):
    ticket = intake.submit(
        form,
        reader=world.customer,
        answers={"product": "desk", "question": "?"},
        uploads={},
        language="en",
    )
    admin = signed_in(world.admin)
    assert admin.post(f"/settings/forms/{form.public_id}/delete").status_code == 302
    assert not IntakeForm.objects.exists()
    assert Submission.objects.get(ticket=ticket).answers[0]["value"] == "Desk"
    assert admin.get(f"/settings/forms/{form.public_id}/").status_code == 404


# --- Ratings -------------------------------------------------------------------------------------


def rating_links(message) -> dict[int, str]:
    return {
        int(score): path
        for path, score in re.findall(r"https?://[^/\s]+(/rate/\S+\?score=(\d))", message.body)
    }


@pytest.fixture
def solved(world, django_capture_on_commit_callbacks):
    Mailbox.objects.create(address="help@quietdesk.example", team=world.support)
    world.customer.language = "fr"
    world.customer.save()
    ticket = factories.ticket(requester=world.customer, team=world.support)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    return ticket


def test_solving_a_ticket_asks_the_customer_for_a_one_click_rating(world, solved):
    (asked,) = [m for m in django_mail.outbox if "/rate/" in m.body]
    assert asked.to == [world.customer.email]
    assert asked.message()["Auto-Submitted"] == "auto-generated"
    assert f"[#{solved.number}]" in asked.subject and "Résolu" in asked.subject
    links = rating_links(asked)
    assert sorted(links) == [1, 2, 3, 4, 5]
    # A mail scanner opening every link rates nothing; the page has the score chosen.
    scanner = Client()
    for path in links.values():
        assert scanner.get(path).status_code == 200
    assert not Rating.objects.exists()
    page = Client().get(links[4]).content.decode()
    assert 'value="4" checked' in page and 'value="5" checked' not in page
    assert "Êtes-vous satisfait de notre aide" in page  # in the customer's language
    rater = Client()
    rated = rater.post(links[4], {"score": "4", "comment": "Rapide, merci"})
    assert rated.status_code == 302  # a refresh of the thank-you page sends nothing again
    assert "Merci pour votre évaluation" in rater.get(rated.url).content.decode()
    rating = Rating.objects.get(ticket=solved)
    assert (rating.score, rating.comment, rating.person) == (4, "Rapide, merci", world.customer)
    # Changing one's mind replaces the rating.
    Client().post(links[2], {"score": "2"})
    assert Rating.objects.get().score == 2
    agent_page = signed_in(world.agent).get(f"/tickets/{solved.public_id}/").content.decode()
    assert "Satisfaction" in agent_page and "(2/5)" in agent_page


def test_forged_stale_and_premature_ratings_are_refused(world, solved, monkeypatch):
    links = rating_links(next(m for m in django_mail.outbox if "/rate/" in m.body))
    path = links[5]
    with monkeypatch.context() as later:
        later.setattr(ratings, "LINK_DAYS", -1)  # as if the 60 days had passed
        assert Client().get(path).status_code == 410
        assert Client().post(path, {"score": "5"}).status_code == 410
    forged = path.replace("/rate/", "/rate/x")
    assert Client().get(forged).status_code == 410
    assert Client().post(forged, {"score": "5"}).status_code == 410
    assert Client().post(path, {"score": "9"}).status_code == 422
    services.change_status(ticket=solved, actor=world.agent, status=Status.OPEN)
    reopened = Client().post(path, {"score": "5"})
    assert reopened.status_code == 409
    assert "de nouveau ouvert" in reopened.content.decode()  # the requester's language
    assert not Rating.objects.exists()


def test_the_portal_offers_the_rating_on_a_solved_request(world, solved):
    client = signed_in(world.customer)
    page = client.get(f"/portal/requests/{solved.public_id}/").content.decode()
    action = re.search(r'action="(/rate/[^"]+)"', page)[1]
    client.post(action, {"score": "5", "comment": "Parfait"})
    assert Rating.objects.get(ticket=solved).score == 5
    # A colleague who can read the request cannot rate it in the requester's name.
    colleague_page = signed_in(world.colleague).get(f"/portal/requests/{solved.public_id}/")
    assert "/rate/" not in colleague_page.content.decode()


def test_no_rating_request_when_the_installation_turns_them_off(
    world, settings, django_capture_on_commit_callbacks
):
    settings.RATING_REQUESTS = False
    ticket = factories.ticket(requester=world.customer, team=world.support)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    assert not [m for m in django_mail.outbox if "/rate/" in m.body]


def test_a_solved_ticket_asks_for_a_rating_once_however_often_the_event_comes(world, solved):
    from quietdesk.mail import outbound

    solved.refresh_from_db()
    assert outbound.queue_rating_request(solved) is None  # asked already by the fixture
    assert len([m for m in django_mail.outbox if "/rate/" in m.body]) == 1
