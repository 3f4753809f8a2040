import pytest

from quietdesk.accounts import services
from quietdesk.accounts.models import Role, User
from quietdesk.audit.models import AuditEvent
from quietdesk.errors import NotAllowed, ValidationFailed
from quietdesk.schedule.models import Calendar
from tests import factories

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


# --- Teams -----------------------------------------------------------------------------------


def test_a_team_is_created_with_its_members_and_calendar(world):
    lyon = Calendar.objects.create(name="Lyon", time_zone="Europe/Paris")
    team = services.create_team(
        actor=world.admin,
        name="  Sales  EMEA ",
        description="Quotes\r\nand renewals",
        members=[world.agent, world.admin, world.agent],
        calendar=lyon,
    )
    assert (team.name, team.slug, team.description) == (
        "Sales EMEA",
        "sales-emea",
        "Quotes\nand renewals",
    )
    assert set(team.members.all()) == {world.agent, world.admin}
    assert team.calendar == lyon
    event = AuditEvent.objects.get(verb="team.created", target_id=team.public_id)
    assert event.after["calendar"] == lyon.public_id
    assert sorted(event.after["members"]) == sorted([world.agent.public_id, world.admin.public_id])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "SUPPORT"}, "name", "A team called SUPPORT exists already."),
        ({"slug": "support"}, "slug", "The short name support is taken by the team Support."),
        ({"name": "Support!", "slug": ""}, "name", "is taken by the team Support"),
        ({"name": ""}, "name", "A team needs a name."),
        ({"name": "?!", "slug": ""}, "name", "at least one letter or digit"),
        ({"slug": "?!"}, "slug", "at least one letter or digit"),
        ({"description": "x" * 2001}, "description", "at most 2000 characters"),
    ],
)
def test_changing_a_team_is_checked_like_creating_one(world, changes, field, message):
    fields = {
        "name": "Billing",
        "slug": "billing",
        "description": "",
        "members": [world.other_agent],
        "calendar": None,
        **changes,
    }
    with pytest.raises(ValidationFailed) as info:
        services.update_team(actor=world.admin, team=world.billing, **fields)
    assert message in str(info.value.fields[field])
    with pytest.raises(ValidationFailed) as info:
        services.create_team(actor=world.admin, **fields)
    assert message in str(info.value.fields[field])
    world.billing.refresh_from_db()
    assert (world.billing.name, world.billing.slug) == ("Billing", "billing")


def test_a_team_keeps_its_own_name_and_only_staff_join_it(world):
    services.update_team(
        actor=world.admin,
        team=world.billing,
        name="Billing",
        slug="billing",
        description="Invoices",
        members=[world.other_agent, world.agent],
        calendar=None,
    )
    assert set(world.billing.members.all()) == {world.other_agent, world.agent}
    with pytest.raises(ValidationFailed) as info:
        services.update_team(
            actor=world.admin,
            team=world.billing,
            name="Billing",
            slug="billing",
            description="",
            members=[world.customer],
            calendar=None,
        )
    assert "members" in info.value.fields
    assert set(world.billing.members.all()) == {world.other_agent, world.agent}
    with pytest.raises(NotAllowed):
        services.update_team(
            actor=world.agent,
            team=world.support,
            name="Mine",
            slug="",
            description="",
            members=[],
            calendar=None,
        )


def test_a_new_team_calendar_recomputes_due_times_and_is_audited(
    world, captured_events, django_capture_on_commit_callbacks
):
    tokyo = Calendar.objects.create(name="Tokyo", time_zone="Asia/Tokyo")
    with django_capture_on_commit_callbacks(execute=True):
        services.update_team(
            actor=world.admin,
            team=world.support,
            name="Support",
            slug="support",
            description="",
            members=[world.agent],
            calendar=tokyo,
        )
    assert [(e.name, e.payload) for e in captured_events if e.name == "calendar.changed"] == [
        ("calendar.changed", {"calendar_id": tokyo.pk})
    ]
    changed = AuditEvent.objects.get(verb="team.changed", target_id=world.support.public_id)
    assert (changed.before["calendar"], changed.after["calendar"]) == (None, tokyo.public_id)
    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):  # same calendar: nothing to redo
        services.update_team(
            actor=world.admin,
            team=world.support,
            name="Support desk",
            slug="support",
            description="",
            members=[world.agent],
            calendar=tokyo,
        )
    assert not [e for e in captured_events if e.name == "calendar.changed"]


# --- Agents and admins -----------------------------------------------------------------------


def staff_fields(person, **changes):
    return {
        "name": person.name,
        "role": person.role,
        "teams": list(person.teams.all()),
        "sees_all_teams": person.sees_all_teams,
        "is_active": person.is_active,
        "language": person.language,
        "time_zone": person.time_zone,
        **changes,
    }


def test_a_new_staff_member_without_a_password_can_still_reset_one(world):
    person = services.create_staff(
        actor=world.admin, email="new@example.com", name="New", sees_all_teams=True
    )
    # A usable password nobody knows: Django's password reset skips unusable ones.
    assert person.has_usable_password()
    assert not person.check_password("")
    assert person.sees_all_teams


def test_an_admin_changes_a_staff_members_profile_role_and_teams(world):
    person = services.update_staff(
        actor=world.admin,
        person=world.agent,
        **staff_fields(
            world.agent,
            name=" Camille  Roux ",
            role=Role.ADMIN,
            teams=[world.billing, world.support],
            sees_all_teams=True,
            language="fr",
            time_zone="America/Montreal",
        ),
    )
    person.refresh_from_db()
    assert person.name == "Camille Roux"
    assert (person.role, person.is_superuser, person.is_staff) == (Role.ADMIN, True, True)
    assert set(person.teams.all()) == {world.billing, world.support}
    assert (person.language, person.time_zone, person.sees_all_teams) == (
        "fr",
        "America/Montreal",
        True,
    )
    event = AuditEvent.objects.get(verb="person.changed", target_id=person.public_id)
    assert event.actor == world.admin
    assert (event.before["role"], event.after["role"]) == (Role.AGENT, Role.ADMIN)
    services.update_staff(actor=world.admin, person=person, **staff_fields(person, role=Role.AGENT))
    person.refresh_from_db()
    assert (person.role, person.is_superuser) == (Role.AGENT, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"role": Role.CUSTOMER}, "role"),
        ({"language": "de"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_wrong_staff_fields_are_named_and_nothing_changes(world, changes, field):
    with pytest.raises(ValidationFailed) as info:
        services.update_staff(
            actor=world.admin, person=world.agent, **staff_fields(world.agent, **changes)
        )
    assert field in info.value.fields
    world.agent.refresh_from_db()
    assert world.agent.role == Role.AGENT and world.agent.name


def test_only_admins_change_staff_and_only_staff_are_changed_here(world):
    with pytest.raises(NotAllowed):
        services.update_staff(
            actor=world.agent,
            person=world.agent,
            **staff_fields(world.agent, role=Role.ADMIN),
        )
    with pytest.raises(NotAllowed):
        services.update_staff(
            actor=world.admin,
            person=world.customer,
            **staff_fields(world.customer, role=Role.AGENT),
        )
    world.customer.refresh_from_db()
    assert world.customer.role == Role.CUSTOMER


def test_nobody_demotes_or_deactivates_themself(world):
    for changes, field in (({"role": Role.AGENT}, "role"), ({"is_active": False}, "is_active")):
        with pytest.raises(ValidationFailed) as info:
            services.update_staff(
                actor=world.admin, person=world.admin, **staff_fields(world.admin, **changes)
            )
        assert set(info.value.fields) == {field}
    world.admin.refresh_from_db()
    assert world.admin.role == Role.ADMIN and world.admin.is_active


def test_two_admins_demoting_each_other_leave_one_admin(world):
    second = factories.AdminFactory()
    stale_second = User.objects.get(pk=second.pk)  # what its request loaded before
    services.update_staff(actor=world.admin, person=second, **staff_fields(second, role=Role.AGENT))
    with pytest.raises(ValidationFailed) as info:
        services.update_staff(
            actor=stale_second, person=world.admin, **staff_fields(world.admin, role=Role.AGENT)
        )
    assert "last active administrator" in str(info.value.fields["role"])
    with pytest.raises(ValidationFailed) as info:
        services.update_staff(
            actor=stale_second,
            person=world.admin,
            **staff_fields(world.admin, is_active=False),
        )
    assert "last active administrator" in str(info.value.fields["is_active"])
    world.admin.refresh_from_db()
    assert world.admin.role == Role.ADMIN and world.admin.is_active


def test_an_admin_is_demoted_while_another_remains(world):
    second = factories.AdminFactory()
    services.update_staff(
        actor=second, person=world.admin, **staff_fields(world.admin, is_active=False)
    )
    world.admin.refresh_from_db()
    assert not world.admin.is_active


def test_an_internationalised_domain_has_one_spelling(world):
    zoe = services.create_contact(actor=world.agent, email="Zoë@BÜRO.example")
    assert zoe.email == "zoë@büro.example"
    assert services.find_person_by_email(services.normalise_email("zoë@xn--bro-hoa.example")) == zoe
    with pytest.raises(ValidationFailed):
        services.create_contact(actor=world.agent, email="zoë@xn--bro-hoa.example")  # taken
