"""Show every page in the reader's own time zone and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from contextlib import ExitStack

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone, translation

from quietdesk.accounts.models import User


class ReaderPreferencesMiddleware:
    """Activate a signed-in person's time zone and language on pages.

    Dates are stored in UTC and converted only here, at the edge. The REST API is left
    alone: its timestamps are ISO 8601 with an offset, and its messages follow HTTP's own
    negotiation (``Accept-Language``), so a client gets the language it asks for whoever
    owns the token. Works in both sync and async stacks, so an ASGI server does not hop
    threads for it.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        if request.path.startswith("/api/"):
            return self.get_response(request)
        with ExitStack() as stack:
            language = _activate(stack, request, request.user)
            response = self.get_response(request)
            assert isinstance(response, HttpResponseBase)  # noqa: S101 - sync stack
            return _mark(response, language)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            return await self.get_response(request)  # type: ignore[no-any-return, misc]
        user = await request.auser()
        with ExitStack() as stack:
            language = _activate(stack, request, user)
            response = await self.get_response(request)  # type: ignore[misc]
            return _mark(response, language)


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
