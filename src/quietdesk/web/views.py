"""Browser views. The agent workspace and the customer portal grow here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_GET, require_POST

from quietdesk import access
from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import User
from quietdesk.api.tickets import attachment_response
from quietdesk.errors import NotFound


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Staff go to their inbox, customers to their requests; others see the welcome."""
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        return redirect("inbox" if user.is_agent_or_admin else "portal")
    return render(request, "web/home.html", {})


@require_GET
@login_required
def download_attachment(request: HttpRequest, attachment_id: str) -> FileResponse:
    assert isinstance(request.user, User)  # noqa: S101 - login_required
    try:
        attachment = access.get_attachment(request.user, attachment_id)
    except NotFound:
        raise Http404 from None
    return attachment_response(attachment)


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: kept on a signed-in person's profile (their mail follows),
    and in a cookie for pages read before signing in."""
    language = str(request.POST.get("language", ""))
    next_url = str(request.POST.get("next", ""))
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = redirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        accounts.set_own_language(person=user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


def browser_language(request: HttpRequest) -> str | None:
    """The language this browser asks for: the switcher's cookie, else the first of its
    ``Accept-Language`` we speak; None when it says nothing we know."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if cookie in dict(settings.LANGUAGES):
        return cookie
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return None


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and `make run`: the app answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
