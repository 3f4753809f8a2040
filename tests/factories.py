"""Factories for tests; they build through the services where a rule applies."""

from __future__ import annotations

from typing import Any

import factory

from quietdesk.accounts.models import EmailAddress, Organisation, Role, Team, User
from quietdesk.tickets import services
from quietdesk.tickets.models import Channel, Ticket


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.CUSTOMER
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def addresses(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            EmailAddress.objects.create(person=self, address=self.email, is_primary=True)

    @factory.post_generation
    def teams(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            for team in extracted:
                team.members.add(self)


class CustomerFactory(PersonFactory):
    role = Role.CUSTOMER


class AgentFactory(PersonFactory):
    role = Role.AGENT
    time_zone = "Europe/Paris"


class AdminFactory(PersonFactory):
    role = Role.ADMIN
    is_superuser = True


def ticket(
    *,
    requester: User,
    actor: User | None = None,
    team: Team | None = None,
    subject: str = "Printer on fire",
    body: str = "It is on fire.",
    **kwargs: Any,
) -> Ticket:
    """Open a ticket the way a user does; the service team sets the team if given."""
    created = services.create_ticket(
        actor=actor or requester,
        subject=subject,
        body=body,
        channel=kwargs.pop("channel", Channel.PORTAL),
        **kwargs,
    )
    if team is not None:
        admin = User.objects.filter(role=Role.ADMIN).first() or AdminFactory()
        created = services.assign(ticket=created, actor=admin, team=team)
    return created
