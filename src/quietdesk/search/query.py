"""The search query language: parsed once, then compiled for each backend.

    invoice "order 1042" factur* -spam (refund OR remboursement) status:open from:me

* words are all required (AND); ``OR`` (upper case) between two words or groups
  offers alternatives, and binds tighter than the implicit AND;
* ``"…"`` is an exact phrase; ``word*`` a prefix (at least two letters);
* ``-word``, ``-"phrase"`` and ``-(group)`` exclude;
* ``name:value`` filters (see ``FILTERS``); values with spaces go in quotes,
  several values are separated by commas (any of them), ``-name:value`` excludes.

Every mistake raises :class:`QueryError` naming the problem and where it is (1-based
character position), in the reader's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from quietdesk.errors import ValidationFailed
from quietdesk.search.text import QueryTokens, is_cjk, looks_like_phone, phone_forms, query_tokens

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_DEPTH = 8
MIN_PREFIX_CHARS = 2

FILTERS = ("status", "team", "assignee", "from", "org", "tag", "channel", "before", "after")
#: Filters that cannot be negated (a date range is already an exclusion).
NOT_NEGATABLE = frozenset({"before", "after"})
_FILTER_ALIASES = {"organisation": "org", "organization": "org", "is": "status"}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QueryError(ValidationFailed):
    """A query that cannot be understood; ``position`` is 1-based (0: the whole query)."""

    code = "invalid_query"

    def __init__(self, message: str, position: int = 0) -> None:
        self.position = position
        super().__init__({"q": message}, message)


# --- The tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """Tokens that must appear next to each other (a word is a phrase of its tokens)."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class All:
    required: tuple[Node, ...]
    excluded: tuple[Node, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    choices: tuple[Node, ...]


type Node = Term | All | AnyOf

#: What ``_Parser.unary`` returns for a filter (kept aside, not part of the text).
_FILTERED: tuple[bool, Node] = (False, Term(()))


@dataclass(frozen=True)
class Filter:
    name: str
    values: tuple[str, ...]
    negated: bool
    position: int


@dataclass(frozen=True)
class Query:
    """A parsed query: the text to match (None: filters only) and the filters."""

    text: Node | None
    filters: tuple[Filter, ...] = ()
    source: str = ""

    def terms(self) -> list[Term]:
        """The positive terms, for highlighting."""
        found: list[Term] = []

        def walk(node: Node) -> None:
            if isinstance(node, Term):
                found.append(node)
            elif isinstance(node, All):
                for child in node.required:
                    walk(child)
            else:
                for child in node.choices:
                    walk(child)

        if self.text is not None:
            walk(self.text)
        return found


# --- Lexing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # word, phrase, filter, or, lparen, rparen, minus
    text: str
    position: int  # 0-based
    values: tuple[str, ...] = field(default=())


def _lex(source: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
        elif char == "(":
            out.append(_Token("lparen", char, i))
            i += 1
        elif char == ")":
            out.append(_Token("rparen", char, i))
            i += 1
        elif char == '"':
            end = source.find('"', i + 1)
            if end < 0:
                raise QueryError(
                    _("The quote at position %(position)d is never closed.") % {"position": i + 1},
                    i + 1,
                )
            prefix = end + 1 < n and source[end + 1] == "*"
            out.append(_Token("phrase", source[i + 1 : end], i, ("*",) if prefix else ()))
            i = end + (2 if prefix else 1)
        elif char == "-" and i + 1 < n and not source[i + 1].isspace():
            out.append(_Token("minus", char, i))
            i += 1
        else:
            start = i
            while i < n and not source[i].isspace() and source[i] not in '()"':
                i += 1
            word = source[start:i]
            name, colon, value = word.partition(":")
            key = _FILTER_ALIASES.get(name.lower(), name.lower())
            if colon and key in FILTERS:
                if not value and i < n and source[i] == '"':
                    end = source.find('"', i + 1)
                    if end < 0:
                        raise QueryError(
                            _("The quote at position %(position)d is never closed.")
                            % {"position": i + 1},
                            i + 1,
                        )
                    value = source[i + 1 : end]
                    i = end + 1
                values = tuple(v.strip() for v in value.split(",") if v.strip())
                if not values:
                    raise QueryError(
                        _("The filter %(filter)s at position %(position)d needs a value.")
                        % {"filter": f"{name}:", "position": start + 1},
                        start + 1,
                    )
                out.append(_Token("filter", key, start, values))
            elif word == "OR":
                out.append(_Token("or", word, start))
            elif word == "AND":
                continue  # the default anyway
            else:
                out.append(_Token("word", word, start))
    return out


# --- Parsing ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token], source: str) -> None:
        self.tokens = tokens
        self.source = source
        self.index = 0
        self.filters: list[Filter] = []
        self.term_count = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def sequence(self, depth: int, opened: _Token | None) -> tuple[list[Node], list[Node]]:
        """Items up to the end or the closing parenthesis: (required, excluded)."""
        required: list[Node] = []
        excluded: list[Node] = []
        while (token := self.peek()) is not None:
            if token.kind == "rparen":
                if opened is None:
                    raise QueryError(
                        _("The parenthesis at position %(position)d closes nothing.")
                        % {"position": token.position + 1},
                        token.position + 1,
                    )
                return required, excluded
            if token.kind == "or":
                raise QueryError(
                    _("OR at position %(position)d needs something on both sides.")
                    % {"position": token.position + 1},
                    token.position + 1,
                )
            item = self.alternatives(depth, top=opened is None)
            if item is None:
                continue
            negated, node = item
            (excluded if negated else required).append(node)
        if opened is not None:
            raise QueryError(
                _("The parenthesis at position %(position)d is never closed.")
                % {"position": opened.position + 1},
                opened.position + 1,
            )
        return required, excluded

    def alternatives(self, depth: int, *, top: bool) -> tuple[bool, Node] | None:
        first = self.unary(depth, top=top)
        choices = [first]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            following = self.peek()
            if following is None or following.kind in ("or", "rparen"):
                raise QueryError(
                    _("OR at position %(position)d needs something on both sides.")
                    % {"position": token.position + 1},
                    token.position + 1,
                )
            if first is _FILTERED:
                raise QueryError(
                    _("Filters cannot be combined with OR (position %(position)d).")
                    % {"position": token.position + 1},
                    token.position + 1,
                )
            choices.append(self.unary(depth, top=False, after_or=token))
        if len(choices) == 1:
            return None if first is None or first is _FILTERED else first
        nodes: list[Node] = []
        for choice in choices:
            if choice is None:
                continue
            negated, node = choice
            if negated:
                raise QueryError(
                    _("An exclusion cannot be one side of OR (near position %(position)d).")
                    % {"position": self.index_position()},
                    self.index_position(),
                )
            nodes.append(node)
        if not nodes:
            return None
        return False, nodes[0] if len(nodes) == 1 else AnyOf(tuple(nodes))

    def index_position(self) -> int:
        token = self.tokens[self.index - 1] if self.index else None
        return token.position + 1 if token else 1

    def unary(
        self, depth: int, *, top: bool, after_or: _Token | None = None
    ) -> tuple[bool, Node] | None:
        token = self.take()
        negated = False
        if token.kind == "minus":
            negated = True
            following = self.peek()
            if following is None or following.kind in ("or", "rparen", "minus"):
                return None  # a lone dash is punctuation
            token = self.take()
        if token.kind == "filter":
            if not top or after_or is not None:
                raise QueryError(
                    _(
                        "The filter %(filter)s at position %(position)d must stand on its own, "
                        "not inside parentheses or next to OR."
                    )
                    % {"filter": f"{token.text}:", "position": token.position + 1},
                    token.position + 1,
                )
            if negated and token.text in NOT_NEGATABLE:
                raise QueryError(
                    _("The filter %(filter)s at position %(position)d cannot be excluded.")
                    % {"filter": f"{token.text}:", "position": token.position + 1},
                    token.position + 1,
                )
            self.filters.append(Filter(token.text, token.values, negated, token.position + 1))
            return _FILTERED
        if token.kind == "lparen":
            if depth >= MAX_DEPTH:
                raise QueryError(
                    _("Too many nested parentheses at position %(position)d.")
                    % {"position": token.position + 1},
                    token.position + 1,
                )
            required, excluded = self.sequence(depth + 1, token)
            self.take()  # the closing parenthesis
            if not required:
                if excluded:
                    raise QueryError(
                        _(
                            "The group at position %(position)d only excludes: add a word "
                            "to look for."
                        )
                        % {"position": token.position + 1},
                        token.position + 1,
                    )
                return None
            node: Node = (
                required[0]
                if len(required) == 1 and not excluded
                else All(tuple(required), tuple(excluded))
            )
            return negated, node
        if token.kind == "rparen":
            raise QueryError(
                _("The parenthesis at position %(position)d closes nothing.")
                % {"position": token.position + 1},
                token.position + 1,
            )
        term = self.term(token)
        if term is None:
            return None
        return negated, term

    def term(self, token: _Token) -> Node | None:
        text = token.text
        prefix = False
        if token.kind == "phrase":
            prefix = bool(token.values)
        elif text.endswith("*"):
            prefix = True
            text = text.rstrip("*")
        found: QueryTokens = query_tokens(text, prefix=prefix)
        if not found.tokens:
            return None
        last = found.tokens[-1]
        if prefix and len(last) < MIN_PREFIX_CHARS and not is_cjk(last):
            raise QueryError(
                _("A prefix needs at least %(count)d letters: %(word)s at position %(position)d.")
                % {
                    "count": MIN_PREFIX_CHARS,
                    "word": token.text[:40],
                    "position": token.position + 1,
                },
                token.position + 1,
            )
        self.term_count += len(found.tokens)
        if self.term_count > MAX_TERMS:
            raise QueryError(
                _("The query has too many words: at most %(max)d.") % {"max": MAX_TERMS}
            )
        node: Node = Term(found.tokens, prefix=found.prefix)
        if token.kind == "word" and not prefix and looks_like_phone(text):
            alternatives = [Term((form,)) for form in phone_forms(text)]
            node = AnyOf((node, *[a for a in alternatives if a != node]))
        return node


def parse(source: str) -> Query:
    """Parse ``source`` into a :class:`Query`; raise :class:`QueryError` when it is wrong."""
    if len(source) > MAX_QUERY_CHARS:
        raise QueryError(
            _("The query is too long: at most %(max)d characters (it has %(count)d).")
            % {"max": MAX_QUERY_CHARS, "count": len(source)}
        )
    control = _CONTROL.search(source)
    if control is not None:
        raise QueryError(
            _("The query contains a control character at position %(position)d.")
            % {"position": control.start() + 1},
            control.start() + 1,
        )
    parser = _Parser(_lex(source), source)
    required, excluded = parser.sequence(0, None)
    filters = tuple(parser.filters)
    if not required:
        if excluded:
            raise QueryError(_("The query only excludes: add at least one word to look for."))
        if not filters:
            raise QueryError(_("Nothing to search for: type a word, a phrase or a filter."))
        return Query(None, filters, source)
    text: Node = (
        required[0]
        if len(required) == 1 and not excluded
        else All(tuple(required), tuple(excluded))
    )
    return Query(text, filters, source)


# --- Compiling ------------------------------------------------------------------------------


def to_fts5(node: Node, *, contacts: bool = True) -> str:
    """SQLite FTS5 query syntax. Tokens are letters and digits only, so quoting is safe.

    Without ``contacts``, the requesters' addresses and numbers (column ``contact``) are
    not searched: only the head and the body.
    """
    expression = _fts5(node)
    return expression if contacts else "{head body} : " + expression


def _fts5(node: Node) -> str:
    if isinstance(node, Term):
        return '"' + " ".join(node.tokens) + '"' + (" *" if node.prefix else "")
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(_fts5(c) for c in node.choices) + ")"
    positive = "(" + " AND ".join(_fts5(c) for c in node.required) + ")"
    for excluded in node.excluded:
        positive = f"({positive} NOT {_fts5(excluded)})"
    return positive


def to_tsquery(node: Node, *, contacts: bool = True) -> str:
    """PostgreSQL ``tsquery`` input syntax, with the same tokens as the index.

    Without ``contacts``, lexemes only match in the head (weight A) and the body (D),
    not among the requesters' addresses and numbers (B).
    """
    return _tsquery(node, "" if contacts else "AD")


def _tsquery(node: Node, weights: str) -> str:
    if isinstance(node, Term):
        lexemes = [f"'{token}'" for token in node.tokens]
        marks = [weights] * len(lexemes)
        if node.prefix:
            marks[-1] = "*" + weights
        return (
            "("
            + " <-> ".join(f"{x}:{m}" if m else x for x, m in zip(lexemes, marks, strict=True))
            + ")"
        )
    if isinstance(node, AnyOf):
        return "(" + " | ".join(_tsquery(c, weights) for c in node.choices) + ")"
    parts = [_tsquery(c, weights) for c in node.required]
    parts += [f"!{_tsquery(c, weights)}" for c in node.excluded]
    return "(" + " & ".join(parts) + ")"
