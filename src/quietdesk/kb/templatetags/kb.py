"""Template helpers for knowledge base suggestions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

register = template.Library()


@register.filter
def suggestion_source(fields: Iterable[tuple[Any, str]]) -> str:
    """The key of an intake form's first short text field (its subject, as a rule).

    ``fields`` are the form page's ``(shown field, error)`` pairs; "" when none fits.
    """
    return next((shown.key for shown, _error in fields if shown.kind == "text"), "")
