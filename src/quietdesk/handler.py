"""Django over ASGI with one thread hop per request.

Django's own ASGI handler runs the middleware chain in async mode. Every middleware
that is written synchronously (all of Django's, through ``MiddlewareMixin``) then moves
its ``process_request`` and ``process_response`` to a worker thread separately, and the
``request_started`` / ``request_finished`` signals and ``response.close()`` take a hop
each too: about sixteen crossings between the event loop and a thread per request,
8 to 10 ms of CPU per API call on our benchmark machine (see
docs/decisions/0004-one-thread-hop-per-request.md).

Quietdesk's HTTP views are synchronous (the ORM is), so this handler reads the body on
the event loop, then runs everything Django does for the request — signals, request
object, the synchronous middleware chain, the view, closing the response — in a
single call on a thread of the event loop's pool, and sends the response from the
event loop. Requests in one process therefore run side by side on a few threads, as
under a threaded WSGI server; each thread has its own database connections (Django
keeps them per thread) and the request closes them before it returns. Streaming
responses (file downloads) are closed after they are sent, as Django does. WebSockets
never reach this handler: the protocol router sends them to Channels' consumers.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django import db
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import set_script_prefix


class OneHopASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        # Skip ASGIHandler.__init__, which builds the async middleware chain.
        super(ASGIHandler, self).__init__()
        self.load_middleware(is_async=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"This handler serves HTTP only, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with body_file:
            response = await sync_to_async(self._respond, thread_sensitive=False)(scope, body_file)
            try:
                if response.streaming and not response.is_async:  # type: ignore[attr-defined]
                    await self._send_sync_stream(response, send)
                else:
                    await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=False)()

    async def _send_sync_stream(self, response: Any, send: Any) -> None:
        """Send a file download chunk by chunk, reading each chunk on a thread.

        Django's handler would first read the whole file into memory to serve a
        synchronous iterator; an attachment can be large.
        """
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": _headers(response),
            }
        )
        chunks = iter(response.streaming_content)

        def next_chunk() -> bytes | None:
            return next(chunks, None)

        read = sync_to_async(next_chunk, thread_sensitive=False)
        while (part := await read()) is not None:
            for chunk, _last in self.chunk_bytes(part):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body"})

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """Everything synchronous about one request, on one thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self._get_response_for(request)
        assert response is not None  # noqa: S101 - create_request returns one or the other
        if response.streaming:
            # Sent and closed from elsewhere: give this thread's connections back now.
            db.close_old_connections()
        else:
            # The content is complete: finish the request here (request_finished closes
            # the database connections) instead of taking another thread hop later.
            response.close()
        return response

    def _get_response_for(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response


def _headers(response: HttpResponseBase) -> list[tuple[bytes, bytes]]:
    headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
    headers += [
        (b"Set-Cookie", c.OutputString().encode("ascii")) for c in response.cookies.values()
    ]
    return headers
