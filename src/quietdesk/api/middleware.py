"""Refuse API requests that cannot be served before any view reads them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from quietdesk.api.errors import error_body
from quietdesk.middleware import SyncAndAsyncMiddleware


class ApiRequestGuardMiddleware(SyncAndAsyncMiddleware):
    """400 for a NUL character in the path or query; 413 for a body over the limit;
    JSON errors for unknown addresses and methods."""

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith("/api/"):
            return self.forward(request)
        return refuse(request) or as_json_error(self.forward(request))

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith("/api/"):
            return await self.aforward(request)
        return refuse(request) or as_json_error(await self.aforward(request))


def refuse(request: HttpRequest) -> HttpResponseBase | None:
    """The answer for an API request that cannot be served, or None to serve it."""
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return JsonResponse(
            error_body(_("The URL contains a NUL character."), "malformed"), status=400
        )
    try:
        request.GET.keys()  # parse now: over DATA_UPLOAD_MAX_NUMBER_FIELDS is refused
    except TooManyFieldsSent:
        return JsonResponse(
            error_body(_("The address has too many query parameters."), "malformed"),
            status=400,
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    multipart = (request.content_type or "") == "multipart/form-data"
    limit = settings.UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length > limit:
        mb = limit / (1024 * 1024)
        return JsonResponse(
            error_body(
                _("The request body is too large: the limit is %(size)s MB.")
                % {"size": number_format(mb, decimal_pos=1)},
                "too_large",
            ),
            status=413,
        )
    return None


def as_json_error(response: HttpResponseBase) -> HttpResponseBase:
    """Unknown API addresses and methods answer in the API's JSON error shape too."""
    if response.status_code not in (404, 405) or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    if response.status_code == 404:
        body = error_body(_("No such address in the API."), "not_found")
    else:
        body = error_body(_("This method is not allowed here."), "method_not_allowed")
    json_response = JsonResponse(body, status=response.status_code)
    if "Allow" in response:
        json_response["Allow"] = response["Allow"]
    return json_response
