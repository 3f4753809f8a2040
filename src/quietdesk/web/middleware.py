"""Show every page in the reader's own time zone and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from quietdesk.accounts.models import User


class ReaderPreferencesMiddleware:
    """Activate a signed-in person's time zone and, on pages, their language.

    Dates are stored in UTC and converted only here, at the edge. The REST API keeps
    HTTP's own negotiation (``Accept-Language``) for its messages, so a client can ask for
    the language it needs whoever owns the token; its dates are ISO 8601 with an offset.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated:
            return self.get_response(request)
        try:
            zone = zoneinfo.ZoneInfo(user.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        language = user.language
        use_profile_language = not request.path.startswith("/api/") and language in dict(
            settings.LANGUAGES
        )
        with timezone.override(zone):
            if not use_profile_language:
                return self.get_response(request)
            with translation.override(language):
                request.LANGUAGE_CODE = language
                response = self.get_response(request)
                response.headers.setdefault("Content-Language", language)
                return response
