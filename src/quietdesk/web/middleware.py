"""Show every page in the reader's own time zone and language."""

from __future__ import annotations

import zoneinfo
from contextlib import ExitStack

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone, translation

from quietdesk.accounts.models import User
from quietdesk.middleware import SyncAndAsyncMiddleware


class ReaderPreferencesMiddleware(SyncAndAsyncMiddleware):
    """Activate a signed-in person's time zone and language on pages.

    Dates are stored in UTC and converted only here, at the edge. The REST API is left
    alone: its timestamps are ISO 8601 with an offset, and its messages follow HTTP's own
    negotiation (``Accept-Language``), so a client gets the language it asks for whoever
    owns the token.
    """

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            return self.forward(request)
        with ExitStack() as stack:
            language = _activate(stack, request, request.user)
            return _mark(self.forward(request), language)

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            return await self.aforward(request)
        user = await request.auser()
        with ExitStack() as stack:
            language = _activate(stack, request, user)
            return _mark(await self.aforward(request), language)


def _activate(stack: ExitStack, request: HttpRequest, user: object) -> str | None:
    """Enter the person's time zone and language; return the language activated."""
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    stack.enter_context(timezone.override(zone))
    if user.language not in dict(settings.LANGUAGES):
        return None
    stack.enter_context(translation.override(user.language))
    request.LANGUAGE_CODE = user.language
    return user.language


def _mark(response: HttpResponseBase, language: str | None) -> HttpResponseBase:
    if language:
        response.headers["Content-Language"] = language
    return response
