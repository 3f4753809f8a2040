"""Building intake forms and opening tickets from them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from quietdesk.accounts.models import User
from quietdesk.errors import NotAllowed, ValidationFailed
from quietdesk.intake import services as intake
from quietdesk.intake.models import IntakeForm, Submission
from quietdesk.tickets.models import Attachment, Channel

pytestmark = pytest.mark.django_db


def bug_form(world, **overrides) -> IntakeForm:
    data = {
        "slug": "bug-report",
        "titles": {"en": "Report a bug", "fr": "Signaler un bug"},
        "team": world.support,
        "tags": ["bug", "Website"],
        "fields": [
            intake.FieldIn(
                key="summary",
                kind="text",
                labels={"en": "Summary", "fr": "Résumé"},
                required=True,
            ),
            intake.FieldIn(
                key="product",
                kind="choice",
                labels={"en": "Product", "fr": "Produit"},
                required=True,
                choices=[
                    intake.ChoiceIn("pro", {"en": "Quietdesk Pro", "fr": "Quietdesk Pro"}),
                    intake.ChoiceIn("free", {"en": "Free plan", "fr": "Offre gratuite"}),
                ],
            ),
            intake.FieldIn(key="details", kind="long_text", labels={"en": "What happened?"}),
            intake.FieldIn(key="screenshot", kind="file", labels={"en": "Screenshot"}),
        ],
    }
    data.update(overrides)
    return intake.save_form(actor=world.admin, data=intake.FormIn(**data))


def test_a_submission_opens_a_ticket_for_the_topics_team_with_structured_answers(world):
    form = bug_form(world)
    ticket = intake.submit(
        form,
        reader=world.customer,
        answers={"summary": "  Export   fails ", "product": "pro", "details": "Line 1\nLine 2"},
        uploads={"screenshot": SimpleUploadedFile("screen.png", b"\x89PNG", "image/png")},
        language="fr",
    )
    assert ticket.team == world.support
    assert ticket.channel == Channel.WEB_FORM
    assert ticket.requester == world.customer
    assert sorted(t.name for t in ticket.tags.all()) == ["bug", "website"]
    assert ticket.subject == "Signaler un bug — Export fails"
    submission = Submission.objects.get(ticket=ticket)
    assert submission.form == form and submission.language == "fr"
    assert submission.answers == [
        {"key": "summary", "kind": "text", "label": "Résumé", "value": "Export fails"},
        {
            "key": "product",
            "kind": "choice",
            "label": "Produit",
            "choice": "pro",
            "value": "Quietdesk Pro",
        },
        # No French label: the default language's is shown and kept.
        {
            "key": "details",
            "kind": "long_text",
            "label": "What happened?",
            "value": "Line 1\nLine 2",
        },
        {"key": "screenshot", "kind": "file", "label": "Screenshot", "value": "screen.png"},
    ]
    opening = ticket.messages.get()
    assert "Résumé\nExport fails" in opening.body_text
    assert "Produit\nQuietdesk Pro" in opening.body_text
    assert Attachment.objects.get(message=opening).filename == "screen.png"


def test_each_refused_answer_is_named_and_nothing_is_opened(world):
    form = bug_form(world)
    with pytest.raises(ValidationFailed) as refused:
        intake.submit(
            form,
            reader=world.customer,
            answers={"summary": "   ", "product": "enterprise", "details": "x" * 20_001},
            uploads={},
            language="en",
        )
    assert set(refused.value.fields) == {"answer-summary", "answer-product", "answer-details"}
    assert "required" in str(refused.value.fields["answer-summary"])
    assert not Submission.objects.exists()
    assert not world.customer.requested_tickets.exists()


def test_prefilled_values_keep_only_what_the_fields_accept(world):
    form = bug_form(world)
    shown = {
        f.key: f.value
        for f in intake.shown_fields(
            form,
            "en",
            {"summary": "a\x00b " * 200, "product": "enterprise", "screenshot": "/etc/passwd"},
        )
    }
    assert shown["product"] == ""  # not one of the choices
    assert shown["screenshot"] == ""  # files are never prefilled
    assert len(shown["summary"]) == intake.SHORT_MAX_CHARS and "\x00" not in shown["summary"]
    assert intake.shown_fields(form, "en", {"product": "free"})[1].value == "free"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "  "}, "slug"),
        ({"titles": {"de": "Fehler"}}, "titles"),
        ({"fields": []}, "fields"),
        (
            {"fields": [intake.FieldIn(key="a", kind="choice", labels={"en": "A"})]},
            "field-0-choices",
        ),
        ({"fields": [intake.FieldIn(key="a", kind="date", labels={"en": "A"})]}, "field-0-kind"),
        ({"fields": [intake.FieldIn(key="a", kind="text", labels={})]}, "field-0-labels"),
        (
            {
                "fields": [
                    intake.FieldIn(key="a", kind="text", labels={"en": "A"}),
                    intake.FieldIn(key="A", kind="text", labels={"en": "B"}),
                ]
            },
            "field-1-key",
        ),
    ],
)
def test_a_form_that_cannot_work_is_refused_field_by_field(world, change, field):
    with pytest.raises(ValidationFailed) as refused:
        bug_form(world, **change)
    assert field in refused.value.fields
    assert not IntakeForm.objects.exists()


def test_only_admins_build_forms_and_addresses_are_unique(world):
    with pytest.raises(NotAllowed):
        intake.save_form(
            actor=world.agent, data=intake.FormIn(slug="x", titles={"en": "X"}, fields=[])
        )
    bug_form(world)
    with pytest.raises(ValidationFailed) as refused:
        bug_form(world, slug="Bug Report")
    assert "slug" in refused.value.fields


def test_editing_a_form_never_changes_what_customers_answered(world):
    form = bug_form(world)
    ticket = intake.submit(
        form,
        reader=world.customer,
        answers={"summary": "Slow", "product": "free"},
        uploads={},
        language="en",
    )
    intake.save_form(
        actor=world.admin,
        form=form,
        data=intake.FormIn(
            slug="bug-report",
            titles={"en": "Bugs"},
            fields=[intake.FieldIn(key="title", kind="text", labels={"en": "Title"})],
        ),
    )
    answers = Submission.objects.get(ticket=ticket).answers
    assert [a["label"] for a in answers] == ["Summary", "Product"]
    intake.delete_form(actor=world.admin, form=form)
    assert Submission.objects.get(ticket=ticket).answers == answers


def test_a_visitor_becomes_a_contact_only_once_their_answers_are_accepted(world):
    form = bug_form(world, allows_anonymous=True)
    ok = {"summary": "Slow", "product": "pro"}

    def send(email, answers=ok, name="Ana"):
        return intake.submit(
            form,
            reader=None,
            visitor=intake.Visitor(email=email, name=name),
            answers=answers,
            uploads={},
            language="fr",
        )

    with pytest.raises(ValidationFailed) as refused:
        send("new.person@example.org", answers={"summary": "Slow"})
    assert set(refused.value.fields) == {"answer-product"}
    assert not User.objects.filter(email="new.person@example.org").exists()
    ticket = send("New.Person@Example.org")
    person = ticket.requester
    assert (
        person.is_customer and person.language == "fr" and person.email == "new.person@example.org"
    )
    assert ticket.submission.from_visitor and ticket.opening_message.channel_metadata["visitor"]
    assert send("new.person@example.org", name="Someone else").requester == person
    # A staff address gets the same outward answer and opens nothing.
    assert send(world.agent.email) is None
    with pytest.raises(ValidationFailed) as empty:
        send("not an address")
    assert "email" in empty.value.fields
    form.allows_anonymous = False
    with pytest.raises(NotAllowed):
        send("new.person@example.org")


def test_staff_cannot_send_a_form_as_themselves(world):
    with pytest.raises(ValidationFailed) as refused:
        intake.submit(bug_form(world), reader=world.agent, answers={}, uploads={}, language="en")
    assert "form" in refused.value.fields
