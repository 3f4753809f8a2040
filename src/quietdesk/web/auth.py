"""Signing in with a password, limited against guessing; password reset by email."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

#: Failed attempts allowed per address and per client in WINDOW seconds.
PER_ADDRESS = 5
PER_CLIENT = 30
WINDOW = 15 * 60


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    address = str(request.POST.get("username", "")).strip().lower()[:254]
    return [
        (f"login-failures:address:{address}", PER_ADDRESS),
        (f"login-failures:client:{_client(request)}", PER_CLIENT),
    ]


class RateLimitedLoginView(LoginView):
    """Django's login, refusing further tries after repeated failures (429)."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        keys = _keys(request)
        if any(int(cache.get(key, 0)) >= limit for key, limit in keys):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                _("Too many failed attempts. Wait 15 minutes, or reset your password."),
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            for key, _limit in keys:
                cache.add(key, 0, WINDOW)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, WINDOW)
        return response
