"""The REST API, version 1: ``/api/v1``, documented at ``/api/v1/docs``."""

from __future__ import annotations

from ninja import NinjaAPI

from quietdesk.api import errors, people, tickets
from quietdesk.api.auth import BrowserSession, TokenAuth
from quietdesk.api.bodies import StrictJsonParser

api = NinjaAPI(
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
    parser=StrictJsonParser(),
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("", tickets.router)
api.add_router("", people.router)
