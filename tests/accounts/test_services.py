import pytest

from quietdesk.accounts import services
from quietdesk.accounts.models import Role
from quietdesk.audit.models import AuditEvent
from quietdesk.errors import NotAllowed, ValidationFailed

pytestmark = pytest.mark.django_db


def test_a_contact_is_found_by_any_of_their_addresses(world):
    contact = services.create_contact(
        actor=world.agent,
        email="Jane@Example.COM",
        name="Jane",
        extra_emails=["jane.doe@example.org"],
        phones=["+33 1 23 45 67 89"],
        organisation=world.acme,
        time_zone="America/New_York",
        language="fr",
    )
    assert contact.email == "jane@example.com"
    assert contact.role == Role.CUSTOMER
    assert services.find_person_by_email("JANE.DOE@example.org ") == contact
    assert services.find_person_by_email("jane@example.com") == contact
    assert list(contact.phone_numbers.values_list("number", flat=True)) == ["+33 1 23 45 67 89"]
    assert not contact.has_usable_password()
    event = AuditEvent.objects.get(verb="person.created", target_id=contact.public_id)
    assert event.actor == world.agent


def test_an_address_belongs_to_one_person_only(world):
    services.create_contact(
        actor=world.agent, email="one@example.com", extra_emails=["shared@example.com"]
    )
    with pytest.raises(ValidationFailed) as info:
        services.create_contact(actor=world.agent, email="SHARED@example.com")
    assert "shared@example.com" in str(info.value.fields["email"])


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not an address"}),
        ("time_zone", {"email": "a@example.com", "time_zone": "Mars/Olympus"}),
        ("language", {"email": "a@example.com", "language": "tlh"}),
    ],
)
def test_invalid_contact_fields_are_named(world, field, kwargs):
    with pytest.raises(ValidationFailed) as info:
        services.create_contact(actor=world.agent, **kwargs)
    assert field in info.value.fields


def test_unknown_language_lists_the_available_ones(world):
    with pytest.raises(ValidationFailed) as info:
        services.create_contact(actor=world.agent, email="x@example.com", language="de")
    assert "en, fr" in str(info.value.fields["language"])


def test_customers_cannot_create_contacts_and_agents_cannot_create_staff(world):
    with pytest.raises(NotAllowed):
        services.create_contact(actor=world.customer, email="friend@example.com")
    with pytest.raises(NotAllowed):
        services.create_staff(actor=world.agent, email="new@example.com", name="New")
    with pytest.raises(NotAllowed):
        services.create_team(actor=world.agent, name="Shadow team")


def test_only_staff_join_teams(world):
    with pytest.raises(ValidationFailed):
        services.add_team_member(actor=world.admin, team=world.support, person=world.customer)
    services.add_team_member(actor=world.admin, team=world.support, person=world.other_agent)
    assert world.other_agent.teams.filter(pk=world.support.pk).exists()


def test_organisation_names_are_unique_ignoring_case(world):
    services.create_organisation(actor=world.agent, name="Initech")
    with pytest.raises(ValidationFailed):
        services.create_organisation(actor=world.agent, name="INITECH")


def test_tokens_are_hashed_and_identify_only_active_people(world):
    token, secret = services.create_api_token(actor=None, user=world.agent, name="ci")
    assert secret.startswith("qd_") and len(secret) > 40
    assert token.token_hash == services.hash_token(secret)
    assert secret not in token.token_hash
    assert services.authenticate_token(secret) == world.agent
    assert services.authenticate_token(secret + "x") is None
    assert services.authenticate_token("Bearer " + secret) is None
    world.agent.is_active = False
    world.agent.save()
    assert services.authenticate_token(secret) is None


def test_nobody_creates_tokens_for_others_but_admins(world):
    with pytest.raises(NotAllowed):
        services.create_api_token(actor=world.agent, user=world.other_agent, name="x")
    _token, secret = services.create_api_token(actor=world.admin, user=world.agent, name="x")
    assert services.authenticate_token(secret) == world.agent


def test_contact_for_email_finds_or_creates_once(world):
    first = services.contact_for_email(actor=world.agent, email="New@Example.com", name="New")
    again = services.contact_for_email(actor=None, email="new@example.com")
    assert first == again
    assert first.role == Role.CUSTOMER
    assert services.contact_for_email(actor=world.agent, email=world.customer.email) == (
        world.customer
    )
    with pytest.raises(NotAllowed):
        services.contact_for_email(actor=world.customer, email="someone@example.com")
    with pytest.raises(ValidationFailed):
        services.contact_for_email(actor=world.agent, email="nonsense")
