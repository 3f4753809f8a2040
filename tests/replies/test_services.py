"""Canned replies: written once by an admin, filled in for each ticket."""

import pytest

from quietdesk.errors import NotAllowed, ValidationFailed
from quietdesk.replies import services as replies
from tests import factories

pytestmark = pytest.mark.django_db


def greeting(world, **texts):
    return replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(
            name="Greeting",
            texts=texts
            or {
                "en": (
                    "Hello {{ customer.first_name }}, about #{{ticket.number}}: "
                    "{{ agent.first_name }}"
                ),
                "fr": "Bonjour {{ customer.first_name }}, au sujet du n° {{ ticket.number }}",
            },
        ),
    )


def test_a_reply_is_filled_in_the_customers_language(world):
    reply = greeting(world)
    world.customer.name = "Camille Durand"
    world.customer.language = "fr"
    world.customer.save()
    ticket = factories.ticket(requester=world.customer)
    filled = replies.fill(reply, ticket=ticket, agent=world.agent)
    assert filled.language == "fr"
    assert filled.text == f"Bonjour Camille, au sujet du n° {ticket.number}"
    world.customer.language = "en"
    world.customer.save()
    ticket.requester.refresh_from_db()
    english = replies.fill(reply, ticket=ticket, agent=world.agent)
    first = world.agent.name.split(" ")[0]
    assert english.text == f"Hello Camille, about #{ticket.number}: {first}"


def test_a_reply_without_the_customers_language_falls_back_to_the_default(world):
    reply = greeting(world, fr="Bonjour {{ customer.name }}")
    world.customer.language = "en"
    world.customer.save()
    ticket = factories.ticket(requester=world.customer)
    filled = replies.fill(reply, ticket=ticket, agent=world.agent)
    assert filled.language == "fr"
    assert filled.text == f"Bonjour {world.customer.name}"


def test_unknown_placeholders_empty_texts_and_duplicates_are_refused_by_field(world):
    with pytest.raises(ValidationFailed) as refused:
        greeting(world, en="Hi {{ customer.shoe_size }}")
    assert "Unknown placeholder: {{ customer.shoe_size }}" in str(refused.value.fields["text_en"])
    with pytest.raises(ValidationFailed) as empty:
        greeting(world, en="   ", fr="")
    assert "texts" in empty.value.fields
    greeting(world)
    with pytest.raises(ValidationFailed) as twice:
        greeting(world)
    assert "name" in twice.value.fields


def test_only_admins_write_replies_and_agents_see_their_teams(world):
    with pytest.raises(NotAllowed):
        replies.save_reply(
            actor=world.agent, data=replies.CannedReplyIn(name="Mine", texts={"en": "x"})
        )
    replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(name="Billing only", texts={"en": "x"}, team=world.billing),
    )
    everyone = greeting(world)
    assert list(replies.visible_replies(world.agent)) == [everyone]
    assert len(replies.visible_replies(world.other_agent)) == 2
