"""Domain events: side effects that run only once a change is committed.

Services call :func:`emit` inside their transaction. Subscribed handlers run on
commit (never for a rolled-back change), each isolated so that one failing
handler neither undoes the change nor stops the others. Later subsystems (SLA
clocks, notifications, search, webhooks) subscribe here instead of being called
from the services directly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict[str, Any] = field(default_factory=dict)


type Handler = Callable[[Event], None]

_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for events called ``name`` (``"*"`` for every event)."""

    def register(handler: Handler) -> Handler:
        if handler not in _handlers[name]:
            _handlers[name].append(handler)
        return handler

    return register


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers[name]:
        _handlers[name].remove(handler)


def emit(name: str, **payload: Any) -> None:
    """Schedule ``name`` for delivery when the current transaction commits."""
    event = Event(name, payload)
    transaction.on_commit(lambda: _deliver(event))


def _deliver(event: Event) -> None:
    for handler in [*_handlers[event.name], *_handlers["*"]]:
        try:
            handler(event)
        except Exception:
            logger.exception("Handler %r failed for event %s", handler, event.name)
