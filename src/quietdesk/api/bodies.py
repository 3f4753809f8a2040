"""Request bodies that may come as JSON or as multipart form data with files."""

from __future__ import annotations

import json
from typing import Any

import pydantic
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja.errors import ValidationError
from ninja.parser import Parser

from quietdesk.errors import TooLarge, ValidationFailed

MULTIPART = "multipart/form-data"


def parse_body[S: pydantic.BaseModel](
    request: HttpRequest, schema: type[S], *, file_field: str = "attachments"
) -> tuple[S, list[UploadedFile[bytes]]]:
    """Validate a JSON or multipart body against ``schema``; return it and any files."""
    content_type = request.content_type or ""
    files: list[UploadedFile[bytes]] = []
    try:
        if content_type == MULTIPART:
            data: Any = _form_data(request, schema)
            files = request.FILES.getlist(file_field)
            unknown = set(request.FILES) - {file_field}
            if unknown:
                raise ValidationFailed({name: _("Unknown file field.") for name in unknown})
        elif content_type in ("application/json", ""):
            data = json.loads(request.body.decode("utf-8")) if request.body else {}
        else:
            raise ValidationFailed(
                {"body": _("Send application/json or multipart/form-data.")},
                message=_("Unsupported content type %(type)s.") % {"type": content_type[:80]},
            )
    except RequestDataTooBig:
        raise TooLarge(_("The request body is too large.")) from None
    except (ValueError, RecursionError):
        # Not UTF-8, not JSON, nested too deep, or a number too long to convert.
        raise ValidationFailed(
            {"body": _("The request body is not valid JSON encoded in UTF-8.")}
        ) from None
    except MultiPartParserError:
        raise ValidationFailed({"body": _("The multipart body is malformed.")}) from None
    if not isinstance(data, dict):
        raise ValidationFailed({"body": _("The request body must be a JSON object.")})
    reject_nul(data)
    try:
        return schema.model_validate(data), files
    except pydantic.ValidationError as exc:
        raise ValidationError(
            [dict(e) for e in exc.errors(include_url=False, include_context=False)]
        ) from None


def reject_nul(data: Any, path: str = "") -> None:
    """Refuse NUL characters anywhere in a decoded body: no database stores them as text."""
    if isinstance(data, str):
        if "\x00" in data:
            raise ValidationFailed({path or "body": _("Contains a NUL character.")})
    elif isinstance(data, dict):
        for key, value in data.items():
            reject_nul(key, path or "body")
            reject_nul(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            reject_nul(value, f"{path}.{index}" if path else str(index))


class StrictJsonParser(Parser):
    """Ninja's body parser: UTF-8 JSON only, with no NUL characters."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body.decode("utf-8"))
        reject_nul(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        reject_nul(parsed)
        return parsed


def _form_data(request: HttpRequest, schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    """Form fields as the schema expects them: lists for list fields, else one value."""
    list_fields = {
        name
        for name, field in schema.model_fields.items()
        if getattr(field.annotation, "__origin__", None) is list or "list[" in str(field.annotation)
    }
    data: dict[str, Any] = {}
    for key in request.POST:
        values = request.POST.getlist(key)
        data[key] = values if key in list_fields else values[-1]
    return data
