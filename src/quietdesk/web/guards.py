"""Who may open a page: the one place where web views check the reader's role.

What a reader may *see* once in (which tickets, which messages) is ``quietdesk.access``'s
question; these guards only send each kind of person to the side of the product that is
theirs: staff to the workspace, customers to the portal, admins to the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from quietdesk.accounts.models import Role, User

type View = Callable[..., HttpResponse]


def _guard(
    allowed: Callable[[User], bool],
    *,
    sign_in: str,
    otherwise: Callable[[User], HttpResponse],
) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
                # The whole path, query included, comes back after signing in (encoded).
                return redirect_to_login(request.get_full_path(), reverse(sign_in))
            if not allowed(user):
                return otherwise(user)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _forbidden(_user: User) -> HttpResponse:
    raise PermissionDenied


#: Agents and admins; a signed-in customer is sent to their portal.
staff_only = _guard(
    lambda user: user.is_agent_or_admin, sign_in="login", otherwise=lambda _u: redirect("portal")
)
#: Signed-in customers; staff go to their inbox, others are asked for a sign-in link.
customer_only = _guard(
    lambda user: user.is_customer, sign_in="portal-sign-in", otherwise=lambda _u: redirect("inbox")
)
#: Administrators only (settings); anyone else signed in is refused (403).
admin_only = _guard(lambda user: user.role == Role.ADMIN, sign_in="login", otherwise=_forbidden)


def signed_in_user(request: HttpRequest) -> User:
    """The reader of a page behind one of the guards above."""
    assert isinstance(request.user, User)  # noqa: S101 - the guard checked it
    return request.user
