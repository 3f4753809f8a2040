"""Helpers for the search tests: tickets written through the services, found by search."""

from __future__ import annotations

from typing import Any

import pytest

from quietdesk.accounts.models import User
from quietdesk.search.queries import SearchPage, search
from quietdesk.tickets import services
from quietdesk.tickets.models import Ticket


def found(actor: User, q: str, **options: Any) -> list[str]:
    """Subjects of the tickets ``actor`` finds with ``q``, in order."""
    return [hit.ticket.subject for hit in search(actor, q, **options).hits]


def page(actor: User, q: str, **options: Any) -> SearchPage:
    return search(actor, q, **options)


@pytest.fixture
def open_ticket(world: Any) -> Any:
    """Open a ticket for a customer of Acme (by default) with ``body`` as first message."""

    def make(
        subject: str, body: str = "Hello.", *, requester: User | None = None, **kwargs: Any
    ) -> Ticket:
        return services.create_ticket(
            actor=kwargs.pop("actor", world.admin),
            requester=requester or world.customer,
            subject=subject,
            body=body,
            channel=kwargs.pop("channel", "portal"),
            **kwargs,
        )

    return make


def note(ticket: Ticket, author: User, body: str) -> None:
    services.post_message(ticket=ticket, author=author, body=body, kind="note", via="web")


def reply(ticket: Ticket, author: User, body: str, **kwargs: Any) -> None:
    services.post_message(
        ticket=ticket, author=author, body=body, via=kwargs.pop("via", "web"), **kwargs
    )
