"""API authentication: personal tokens (Bearer) or the browser session with CSRF."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from quietdesk.accounts.models import User
from quietdesk.accounts.services import authenticate_token


class TokenAuth(HttpBearer):
    openapi_description = (
        "A personal API token: `Authorization: Bearer qd_…` (`quietdesk token create EMAIL`)."
    )

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """The signed-in browser session; unsafe methods need the CSRF token."""

    openapi_description = "The browser session cookie, with the CSRF token on unsafe requests."

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if isinstance(user, User) and user.is_active:
            return user
        return None


def actor(request: HttpRequest) -> User:
    """The authenticated person behind an API request."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)  # noqa: S101 - every operation requires authentication
    return user
