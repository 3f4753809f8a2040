"""Signing in with a password, limited against guessing; password reset by email."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

#: Failed attempts allowed per address and per client in WINDOW seconds.
PER_ADDRESS = 5
PER_CLIENT = 30
WINDOW = 15 * 60


def client_address(request: HttpRequest) -> str:
    """The client's address; behind a reverse proxy, the one the proxy saw."""
    if settings.BEHIND_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]  # added by our own proxy
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def too_many(key: str, limit: int) -> bool:
    """Whether ``key`` has been counted ``limit`` times in its current window."""
    return int(cache.get(key, 0)) >= limit


def count(key: str, window: int) -> int:
    """Count one more attempt under ``key`` (atomically); the count lasts ``window`` seconds.

    Returns the count including this attempt.
    """
    cache.add(key, 0, window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    address = str(request.POST.get("username", "")).strip().lower()[:254]
    return [
        (f"login-failures:address:{address}", PER_ADDRESS),
        (f"login-failures:client:{client_address(request)}", PER_CLIENT),
    ]


class RateLimitedLoginView(LoginView):
    """Django's login, refusing further tries after repeated failures (429)."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        keys = _keys(request)
        if any(too_many(key, limit) for key, limit in keys):
            # An unbound form: the password is not even checked (nor hashed) now.
            form = self.form_class(request, initial={"username": request.POST.get("username")})
            response = self.render_to_response(
                self.get_context_data(
                    form=form,
                    refused=_("Too many failed attempts. Wait 15 minutes, or reset your password."),
                )
            )
            response.status_code = 429
            return response
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            cache.delete(keys[0][0])  # the address starts afresh; the client count stays
        else:
            for key, _limit in keys:
                count(key, WINDOW)
        return response
