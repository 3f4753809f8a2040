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


def pick_language(texts: dict[str, str], wanted: str, default: str) -> str:
    """The language to show of a text kept in several: the reader's, else the default, else any.

    Returns ``default`` when ``texts`` holds nothing at all.
    """
    for code in (wanted, default):
        if texts.get(code):
            return code
    return next((code for code, text in texts.items() if text), default)


def in_language(texts: dict[str, str], wanted: str, default: str) -> str:
    """The text itself, in the language :func:`pick_language` chooses ("" when none)."""
    return texts.get(pick_language(texts, wanted, default), "")


#: Words too common to tell texts apart, in the installation's languages (folded: no
#: accents, lower case). Used to pick the words worth looking for in a text.
_STOP_WORDS_TEXT = """
    a an and are as at be but by can do does for from has have how i in is it its me my
    no not of on or our so that the their this to was we what when where which who why
    will with you your hello hi thanks thank please regards
    au aux avec ce ces comment dans de des du elle en est et il je la le les leur ma mais
    me mes mon ne nous on ou par pas plus pour qu que qui quoi sa se ses son sur ta te
    un une vos votre vous y bonjour merci cordialement bien
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
