"""The REST API, version 1: ``/api/v1``, documented at ``/api/v1/docs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ninja import NinjaAPI

from quietdesk.api import errors, people, sla, tickets
from quietdesk.api.auth import BrowserSession, TokenAuth
from quietdesk.api.bodies import StrictJsonParser
from quietdesk.api.schemas import ErrorOut
from quietdesk.search import api as search_api

if TYPE_CHECKING:
    from ninja.openapi.schema import OpenAPISchema
    from ninja.operation import Operation

#: Error answers every operation may give, documented once for all of them.
ERROR_RESPONSES: dict[str, str] = {
    "400": "Malformed request (not JSON in UTF-8, NUL character).",
    "401": "No or unknown credentials.",
    "403": "You may see this but not do that.",
    "404": "No such object, or not yours to see.",
    "409": "Conflicts with the ticket's state (status machine, closed ticket).",
    "413": "Body or attachment over the size limit.",
    "422": "A field is missing, unknown, of the wrong type or breaks a rule.",
}


class QuietdeskAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["Error"] = {**error_schema, "title": "Error"}
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_RESPONSES.items():
                    responses.setdefault(
                        int(status), {"description": description, "content": error}
                    )
        return schema


api = QuietdeskAPI(
    title="Quietdesk API",
    version="1",
    description=(
        "Tickets, messages, contacts, organisations and teams. Authenticate with a personal "
        "token (`Authorization: Bearer qd_…`) or the browser session (with CSRF). Errors are "
        "JSON: `{message, code, details: [{field, message}]}`."
    ),
    auth=[TokenAuth(), BrowserSession()],
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictJsonParser(),
)
errors.install(api)
api.add_router("", tickets.router)
api.add_router("", people.router)
api.add_router("", sla.router)
api.add_router("", search_api.router)
