"""Domain errors raised by services and turned into answers by each adapter.

The web views, the REST API, the SMTP listener and the command line all map these
to their own vocabulary (HTTP status, SMTP reply code, exit status, message).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

type Text = str | Promise


class DomainError(Exception):
    """Base of every error a user can cause and should read about."""

    code = "error"
    default_message: Text = _("The request could not be completed.")

    def __init__(self, message: Text | None = None) -> None:
        self.message: Text = message if message is not None else self.default_message
        super().__init__(str(self.message))


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"
    default_message = _("Not found.")


class NotAllowed(DomainError):
    """The actor can see the object but may not do this to it."""

    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class InvalidTransition(DomainError):
    """A status change the ticket state machine does not allow."""

    code = "invalid_transition"

    def __init__(
        self,
        current: str,
        requested: str,
        allowed: Sequence[str],
        *,
        labels: Mapping[str, Text] | None = None,
    ) -> None:
        """``allowed`` holds status codes; ``labels`` their names in the reader's language."""
        self.current = current
        self.requested = requested
        self.allowed = list(allowed)
        names = labels or {}

        def name(code: str) -> str:
            return str(names.get(code, code))

        allowed_text = ", ".join(name(c) for c in self.allowed) if self.allowed else _("none")
        super().__init__(
            _("A ticket cannot go from %(current)s to %(requested)s. Allowed: %(allowed)s.")
            % {"current": name(current), "requested": name(requested), "allowed": allowed_text}
        )


class TicketClosed(DomainError):
    """Closed tickets are final; only a follow-up ticket can continue them."""

    code = "ticket_closed"
    default_message = _("This ticket is closed and can no longer change.")


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``fields`` maps each field to what is wrong with it."""

    code = "invalid"
    default_message = _("Some fields are not valid.")

    def __init__(self, fields: Mapping[str, Text], message: Text | None = None) -> None:
        self.fields = dict(fields)
        super().__init__(message)


class TooLarge(DomainError):
    """An upload or body over the configured limit."""

    code = "too_large"
    default_message = _("The upload is too large.")
