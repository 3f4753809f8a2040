"""Keyset ("cursor") pagination: every page costs the same, however deep.

A cursor is an opaque token holding the sort key and id of the last item sent.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from quietdesk.errors import ValidationFailed


@dataclass(frozen=True)
class Sort:
    """Order by ``field`` then id, both in the same direction."""

    field: str
    descending: bool

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        if self.field == "id":
            return [f"{sign}id"]
        return [f"{sign}{self.field}", f"{sign}id"]


def encode_cursor(sort_value: Any, pk: int) -> str:
    if isinstance(sort_value, datetime.datetime):
        sort_value = sort_value.isoformat()
    raw = json.dumps([sort_value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(pk, int):
            raise ValueError(pk)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValidationFailed(
            {"cursor": _("This cursor is not valid; start again without it.")}
        ) from None
    return value, pk


def parse_aware_datetime(value: Any) -> datetime.datetime:
    """A cursor's timestamp: ISO 8601 with an offset, normalised to UTC."""
    if not isinstance(value, str):
        raise TypeError(value)
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(value)
    return parsed.astimezone(datetime.UTC)


def paginate[M: Model](
    queryset: QuerySet[M],
    *,
    sort: Sort,
    limit: int,
    cursor: str | None,
    parse_value: Callable[[Any], Any] = lambda v: v,
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` and the cursor of the next page (None at the end)."""
    queryset = queryset.order_by(*sort.order_by())
    if cursor:
        value, pk = decode_cursor(cursor)
        op = "lt" if sort.descending else "gt"
        if sort.field == "id":
            queryset = queryset.filter(**{f"id__{op}": pk})
        else:
            try:
                value = parse_value(value)
            except (TypeError, ValueError, OverflowError):
                raise ValidationFailed({"cursor": _("This cursor is not valid.")}) from None
            queryset = queryset.filter(
                Q(**{f"{sort.field}__{op}": value}) | Q(**{sort.field: value, f"id__{op}": pk})
            )
    items = list(queryset[: limit + 1])
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = items[-1]
    return items, encode_cursor(getattr(last, sort.field), last.pk)
