"""Highlighted snippets: escape everything, then wrap what matched in ``<mark>``.

Matching is done on folded text (so "reponse" highlights "réponse") with a map back to
the original characters; the HTML is built from escaped pieces of the original only.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from quietdesk.search.query import Term
from quietdesk.search.text import MAX_TOKEN_CHARS, fold, fold_with_origins, has_cjk, segments

#: A letter or digit: what words are made of (see ``quietdesk.search.text``).
_LETTER = r"[^\W_]"

SNIPPET_CHARS = 220
#: Only this much text around the matched chunk is folded character by character.
SEARCHED_CHARS = 40_000
STEP_CHARS = 2_000


@dataclass(frozen=True)
class Needles:
    """What to highlight: whole tokens, token prefixes, and CJK substrings."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    cjk: tuple[str, ...]

    @classmethod
    def of(cls, terms: list[Term]) -> Needles:
        words: set[str] = set()
        prefixes: list[str] = []
        cjk: list[str] = []
        for term in terms:
            for index, token in enumerate(term.tokens):
                is_last = index == len(term.tokens) - 1
                if any(s.cjk for s in segments(token)):
                    cjk.append(token)
                elif term.prefix and is_last:
                    prefixes.append(token)
                else:
                    words.add(token)
        return cls(frozenset(words), tuple(prefixes), tuple(cjk))

    def may_match(self, folded: str) -> bool:
        """A quick test (substrings, at C speed): False means :meth:`spans` finds nothing."""
        return any(needle in folded for needle in (*self.words, *self.prefixes, *self.cjk))

    @functools.cached_property
    def _whole_words(self) -> re.Pattern[str] | None:
        """Whole words that are a wanted word or start with a wanted prefix, as one
        pattern: far quicker than testing every word of the text in Python."""
        choices = [
            re.escape(word) + (_LETTER + "*" if len(word) >= MAX_TOKEN_CHARS else "")
            for word in sorted(self.words)
        ] + [re.escape(prefix) + _LETTER + "*" for prefix in self.prefixes]
        if not choices:
            return None
        return re.compile(f"(?<!{_LETTER})(?:{'|'.join(choices)})(?!{_LETTER})")

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """(start, end) in ``folded`` of everything to highlight, in order, not overlapping."""
        if not self.cjk and not has_cjk(folded):
            # Without CJK a word is a whole run of letters and digits: one pattern finds
            # the same words as the walk below, in order and apart from each other.
            pattern = self._whole_words
            return [] if pattern is None else [m.span() for m in pattern.finditer(folded)]
        found: list[tuple[int, int]] = []
        for segment in segments(folded):
            start, text = segment.start, segment.text
            if segment.cjk:
                for needle in self.cjk:
                    at = text.find(needle)
                    while at >= 0:
                        found.append((start + at, start + at + len(needle)))
                        at = text.find(needle, at + 1)
                continue
            token = text[:MAX_TOKEN_CHARS]
            if token in self.words or any(token.startswith(p) for p in self.prefixes):
                found.append((start, start + len(text)))
        found.sort()
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged


def highlight(text: str, needles: Needles) -> str:
    """All of ``text`` (a subject, a name), escaped, with matches marked."""
    folded, origins = fold_with_origins(text)
    return _render(text, _original_spans(needles.spans(folded), origins, len(text)), 0, len(text))


def snippet(text: str, needles: Needles, *, around: int = 0) -> str:
    """About :data:`SNIPPET_CHARS` characters of ``text`` around the first match at or
    after ``around`` (the start of the matched chunk), escaped, with matches marked; the
    start of the text when nothing in it matched (the head did)."""
    start_at = max(0, around - 200)
    window, spans = "", []
    # Fold piece by piece: the first match is usually near the start.
    for piece_start in range(start_at, min(len(text), start_at + SEARCHED_CHARS), STEP_CHARS):
        end = min(len(text), piece_start + STEP_CHARS + 100)
        window = text[piece_start:end]
        if not needles.may_match(fold(window)):
            continue  # the quick test: the map back to the original only where it matches
        folded, origins = fold_with_origins(window)
        spans = _original_spans(needles.spans(folded), origins, len(window))
        if spans:
            start_at = piece_start
            break
    if not spans:
        start_at = max(0, around - 200)
        window = text[start_at : start_at + SNIPPET_CHARS + 40]
    if spans:
        first = spans[0][0]
        begin = max(0, first - SNIPPET_CHARS // 3)
        if begin:
            space = window.rfind(" ", max(0, begin - 20), first)
            begin = space + 1 if space >= 0 else begin
    else:
        begin = 0
    end = min(len(window), begin + SNIPPET_CHARS)
    if end < len(window):
        space = window.find(" ", end, end + 20)
        end = space if space >= 0 else end
    body = _render(window, spans, begin, end)
    lead = "… " if begin + start_at > 0 else ""
    tail = " …" if start_at + end < len(text) else ""
    return lead + body + tail


def _original_spans(
    spans: list[tuple[int, int]], origins: list[int], length: int
) -> list[tuple[int, int]]:
    out = []
    for start, end in spans:
        begin = origins[start]
        finish = origins[end - 1] + 1 if end - 1 < len(origins) else length
        out.append((begin, finish))
    return out


def _render(text: str, spans: list[tuple[int, int]], begin: int, end: int) -> str:
    pieces: list[str] = []
    cursor = begin
    for start, finish in spans:
        if finish <= begin or start >= end:
            continue
        start, finish = max(start, begin), min(finish, end)
        pieces.append(html.escape(text[cursor:start]))
        pieces.append("<mark>" + html.escape(text[start:finish]) + "</mark>")
        cursor = finish
    pieces.append(html.escape(text[cursor:end]))
    return " ".join("".join(pieces).split()) if pieces else ""
