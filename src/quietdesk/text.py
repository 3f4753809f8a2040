"""Cleaning free text that arrives from any channel before it is stored."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def clean_body(value: str) -> str:
    """Keep newlines and tabs; drop NUL and other control characters databases reject."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: str) -> str:
    """One line of text (subjects, names): control characters removed, spaces collapsed."""
    return _SPACES.sub(" ", _CONTROL.sub("", value)).strip()
