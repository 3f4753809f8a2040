"""A base for middleware that runs natively in both Django's sync and async stacks.

Under ASGI, a middleware that is only sync makes Django hop between the event loop and a
worker thread around it for every request; one that supports both does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

type GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


class SyncAndAsyncMiddleware:
    """Subclasses implement ``handle`` (sync stack) and ``ahandle`` (async stack)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.ahandle(request)
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    def forward(self, request: HttpRequest) -> HttpResponseBase:
        """The rest of the chain, in the sync stack."""
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)  # noqa: S101 - sync stack
        return response

    async def aforward(self, request: HttpRequest) -> HttpResponseBase:
        """The rest of the chain, in the async stack."""
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)  # noqa: S101 - async stack
        return await response
