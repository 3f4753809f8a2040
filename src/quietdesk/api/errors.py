"""One JSON error shape for the whole API, in the reader's language.

``{"message": "...", "code": "...", "details": [{"field": "...", "message": "..."}]}``
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from quietdesk.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    TicketClosed,
    TooLarge,
    ValidationFailed,
)

logger = logging.getLogger(__name__)

STATUS_FOR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (NotAllowed, 403),
    (InvalidTransition, 409),
    (TicketClosed, 409),
    (ValidationFailed, 422),
    (TooLarge, 413),
]


def error_body(
    message: str, code: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"message": message, "code": code, "details": details or []}


def _field_name(loc: Any) -> str:
    parts = [
        str(p)
        for p in (loc or ())
        if str(p) not in {"body", "query", "path", "form", "payload", "data", "filters"}
    ]
    return ".".join(parts) or "body"


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    details = []
    for error in errors:
        kind = error.get("type", "")
        if kind == "extra_forbidden":
            message = _("Unknown field.")
        elif kind == "missing":
            message = _("This field is required.")
        else:
            message = str(error.get("msg", _("Invalid value.")))
        details.append({"field": _field_name(error.get("loc")), "message": message})
    return details


def install(api: NinjaAPI) -> None:
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        status = next((code for cls, code in STATUS_FOR if isinstance(exc, cls)), 400)
        details: list[dict[str, str]] = []
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationFailed):
            details = [{"field": f, "message": str(m)} for f, m in exc.fields.items()]
        if isinstance(exc, InvalidTransition):
            extra["allowed"] = exc.allowed
        return api.create_response(
            request, {**error_body(str(exc.message), exc.code, details), **extra}, status=status
        )

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(_("Some fields are not valid."), "invalid", _validation_details(exc.errors)),
            status=422,
        )

    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(
                _("Authentication required: send a Bearer token or sign in."), "not_authenticated"
            ),
            status=401,
        )

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, RequestDataTooBig):
            return on_too_big(request, exc.__cause__)
        if isinstance(exc.__cause__, DomainError):  # raised by our body parser
            return on_domain_error(request, exc.__cause__)
        message = str(exc)
        if message.startswith("Cannot parse request body"):
            message = _("The request body is not valid JSON encoded in UTF-8.")
            code = "malformed"
        else:
            code = "error"
        return api.create_response(request, error_body(message, code), status=exc.status_code)

    def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(
            request, error_body(_("The request body is too large."), "too_large"), status=413
        )

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Too many fields or files, malformed multipart, and the like.
        logger.info("Refused %s %s: %s", request.method, request.path, exc)
        return api.create_response(
            request,
            error_body(
                _("The request cannot be processed: %(reason)s")
                % {"reason": _("too many fields or files, or a malformed body.")},
                "malformed",
            ),
            status=400,
        )

    def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, error_body(_("Not found."), "not_found"), status=404)

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unexpected error in %s %s", request.method, request.path)
        return api.create_response(
            request,
            error_body(_("Something went wrong on our side; it has been logged."), "server_error"),
            status=500,
        )

    api.add_exception_handler(DomainError, on_domain_error)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, on_validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(AuthenticationError, on_auth_error)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(SuspiciousOperation, on_suspicious)  # type: ignore[arg-type]
    api.add_exception_handler(RequestDataTooBig, on_too_big)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, on_404)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, on_unexpected)  # type: ignore[arg-type]
