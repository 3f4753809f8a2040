"""Folding and splitting text into the tokens both search backends index.

Everything language-specific happens here, in Python, so that SQLite and PostgreSQL
see exactly the same tokens (and no database extension such as ``unaccent`` is
needed):

* **folding**: compatibility decomposition, combining marks dropped, recomposed, then
  case-folded: "Réponse" → "reponse", "Ёлка" → "елка", "Straße" → "strasse";
* **words** are runs of letters and digits; everything else separates them, so
  "FR-2024-0042" is the three tokens "fr 2024 0042" and a query for it is a phrase;
* **scripts written without spaces** (Chinese, Japanese, Korean, Thai) are cut into
  overlapping bigrams, plus the last character of each run alone, so that any
  substring of one or more characters can be found (see ``cjk_query_tokens``).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

#: Longer tokens (base64, hashes in logs) are cut, in documents and queries alike.
MAX_TOKEN_CHARS = 60

_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(
    "["
    "\u0e00-\u0e7f"  # Thai
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0003ffff"  # CJK extensions B and later
    "]+"
)
#: Letters that no decomposition takes apart but French and Nordic readers fold anyway.
_EXTRA = {"æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}
_EXTRA_RE = re.compile("|".join(_EXTRA))


@functools.cache
def _combining_marks() -> frozenset[str]:
    """Every combining mark (category Mn); built once per process (about 40 ms)."""
    # Combining marks live in the first two planes and among the variation selectors.
    planes = itertools.chain(range(0x20000), range(0xE0100, 0xE01F0))
    return frozenset(chr(c) for c in planes if unicodedata.category(chr(c)) == "Mn")


def _without_marks(text: str) -> str:
    # Look at each distinct character once (a set, at C speed), then remove the few marks
    # found: far quicker than a per-character translate table or a huge regex class.
    present = set(text) & _combining_marks()
    for mark in present:
        text = text.replace(mark, "")
    return text


def fold(text: str) -> str:
    """``text`` without case and accents, as indexed and as searched."""
    if text.isascii():
        return text.lower()
    decomposed = _without_marks(unicodedata.normalize("NFKD", text))
    folded = unicodedata.normalize("NFC", decomposed).casefold()
    if folded.isascii():
        return folded
    return _EXTRA_RE.sub(lambda found: _EXTRA[found.group()], folded)


_ASCII_RUN = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]")


def fold_with_origins(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` with, for each folded character, the index of the original one it
    came from (for highlighting the original text)."""
    pieces: list[str] = []
    origins: list[int] = []
    for run in _ASCII_RUN.finditer(text):
        piece, start = run.group(), run.start()
        if piece.isascii():
            pieces.append(piece.lower())
            origins.extend(range(start, run.end()))
        else:
            folded = fold(piece)
            pieces.append(folded)
            origins.extend([start] * len(folded))
    return "".join(pieces), origins


def is_cjk(token: str) -> bool:
    return _CJK.fullmatch(token) is not None


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any character of a script written without spaces."""
    return _CJK.search(text) is not None


@dataclass(frozen=True)
class Segment:
    """A run of one kind of characters inside a word, with its place in the folded text."""

    text: str
    start: int
    cjk: bool


def segments(folded: str) -> Iterator[Segment]:
    """The words of already folded text, CJK runs apart from the rest."""
    for word in _WORD.finditer(folded):
        value, offset = word.group(), word.start()
        position = 0
        for run in _CJK.finditer(value):
            if run.start() > position:
                yield Segment(value[position : run.start()], offset + position, cjk=False)
            yield Segment(run.group(), offset + run.start(), cjk=True)
            position = run.end()
        if position < len(value):
            yield Segment(value[position:], offset + position, cjk=False)


def cjk_tokens(run: str) -> list[str]:
    """The bigrams of a run, then its last character alone (a run of one: that character)."""
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` in order, as a document is indexed."""
    folded = fold(text)
    if not _CJK.search(folded):
        return [word[:MAX_TOKEN_CHARS] for word in _WORD.findall(folded)]
    out: list[str] = []
    for segment in segments(folded):
        if segment.cjk:
            out.extend(cjk_tokens(segment.text))
        else:
            out.append(segment.text[:MAX_TOKEN_CHARS])
    return out


@dataclass(frozen=True)
class QueryTokens:
    """What one query word or phrase becomes: tokens to find next to each other, the last
    of them possibly a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def query_tokens(text: str, *, prefix: bool = False) -> QueryTokens:
    """Tokens of a query word or phrase, matching how documents are indexed.

    A CJK run inside the query becomes its bigrams; the run's last character alone is
    added only when more tokens follow (a document has it there too, since its run ended
    there). A query ending in a single CJK character looks for it as a prefix, which
    finds both the bigrams starting with it and the run-final character alone.
    """
    parts = list(segments(fold(text)))
    out: list[str] = []
    ends_with_single_cjk = False
    for index, segment in enumerate(parts):
        last = index == len(parts) - 1
        if segment.cjk:
            run = segment.text
            bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
            if last:
                if bigrams:
                    out.extend(bigrams)
                else:
                    out.append(run)
                    ends_with_single_cjk = True
            else:
                out.extend([*bigrams, run[-1]])
        else:
            out.append(segment.text[:MAX_TOKEN_CHARS])
    return QueryTokens(tuple(out), prefix=prefix or ends_with_single_cjk)


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
PHONE_SUFFIX_DIGITS = 9


def phone_forms(number: str) -> list[str]:
    """The digits of a phone number and their national tail, as one token each:
    "+33 6 12 34 56 78" and "06.12.34.56.78" share "612345678"."""
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) < PHONE_SUFFIX_DIGITS:
        return [digits] if digits else []
    return list(dict.fromkeys([digits, digits[-PHONE_SUFFIX_DIGITS:]]))


def looks_like_phone(text: str) -> bool:
    return bool(_PHONE_LIKE.fullmatch(text)) and sum(c.isdigit() for c in text) >= 9
