"""The two full-text backends: SQLite FTS5 and PostgreSQL tsvector + GIN.

Both receive the same tokens (from :mod:`quietdesk.search.text`) and the same parsed
query (from :mod:`quietdesk.search.query`); each only knows how to store tokens and how
to walk the documents that match, newest first. Everything else (scoping, filters,
grouping by ticket, snippets) is shared.

Each document has three parts: the *head* (the ticket's subject and number, the
requester's name and organisation), the *contact* part (the requester's addresses and
phone numbers: searched by the service team only, never by customers, who may share an
organisation's tickets but not their colleagues' details) and the *body*.

SQLite: an FTS5 table ``search_fts(head, contact, body)`` whose rowid is the document id,
with the ``ascii`` tokenizer: the text it receives is already folded tokens separated by
spaces, so it only splits on spaces. A customer's query is limited to ``{head body}``.

PostgreSQL: a ``tsv tsvector`` column on ``search_document`` with a GIN index. The
tsvector is written as a literal (``'token':1,5A …``) rather than through
``to_tsvector``, so PostgreSQL's parser and dictionaries never see the text. Head
tokens carry weight A (for ranking), contact tokens B, body tokens none (D); each part
starts one position after the previous one, so a phrase never spans two. A customer's
query only matches weights A and D.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection

from quietdesk.search.query import Node, to_fts5, to_tsquery

#: PostgreSQL keeps positions up to 16,383 and at most 256 per lexeme.
PG_MAX_POSITION = 16_383
PG_MAX_POSITIONS_PER_LEXEME = 255


@dataclass(frozen=True)
class IndexedText:
    """A document's tokens, ready to be written."""

    id: int
    head: Sequence[str]
    contact: Sequence[str]
    body: Sequence[str]


@dataclass(frozen=True)
class Conditions:
    """SQL restricting ``d`` (the ``search_document`` row), with its parameters."""

    sql: str
    params: list[Any]
    #: Whether the match may use the requesters' addresses and numbers (staff only).
    contacts: bool = True


class Backend(Protocol):
    def write(self, texts: Sequence[IndexedText]) -> None: ...

    def delete(self, ids: Sequence[int]) -> None: ...

    def scan(
        self,
        match: Node | None,
        where: Conditions,
        *,
        below: int | None,
        limit: int,
        narrow: bool,
        ranked: bool = False,
    ) -> list[tuple[int, int, float]]:
        """(document id, ticket id, relevance or 0) of matching documents, newest first."""
        ...

    def matching(self, match: Node, ids: Sequence[int], *, contacts: bool) -> set[int]: ...

    def index_bytes(self) -> int: ...

    def optimize(self) -> None: ...

    def prune(self) -> int:
        """Remove index entries whose document is gone; return how many."""
        ...


def _scan_sql(
    select_from: str, where: Conditions, match: tuple[str, list[Any]], below: int | None
) -> tuple[str, list[Any]]:
    clauses = [where.sql] if where.sql else []
    params = list(where.params)
    if below is not None:
        clauses.append("d.id < %s")
        params.append(below)
    if match[0]:
        # Last: PostgreSQL checks the filters of one row in the order written when they
        # cost the same, and the text is the dearest to check (its vector is read).
        clauses.append(match[0])
        params += match[1]
    sql = select_from + (" WHERE " + " AND ".join(clauses) if clauses else "")
    return sql, params


def _id(text: IndexedText) -> int:
    return text.id


class SqliteBackend:
    table = "search_fts"
    #: bm25 is lower for better matches; a hit in the head (or among the requester's
    #: addresses) weighs five times more.
    rank_sql = "-bm25(search_fts, 5.0, 5.0, 1.0)"

    def write(self, texts: Sequence[IndexedText]) -> None:
        if not texts:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT OR REPLACE INTO {self.table} (rowid, head, contact, body) "  # noqa: S608
                "VALUES (%s, %s, %s, %s)",
                # In rowid order: FTS5 flushes its pending terms into a new segment
                # whenever a rowid is lower than the previous one.
                [
                    (t.id, " ".join(t.head), " ".join(t.contact), " ".join(t.body))
                    for t in sorted(texts, key=_id)
                ],
            )

    def delete(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {self.table} WHERE rowid = %s",  # noqa: S608
                [(i,) for i in ids],
            )

    def _exists(self) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {self.table} WHERE {self.table} MATCH %s "  # noqa: S608
            "AND rowid = d.id)"
        )

    def scan(
        self,
        match: Node | None,
        where: Conditions,
        *,
        below: int | None,
        limit: int,
        narrow: bool,
        ranked: bool = False,
    ) -> list[tuple[int, int, float]]:
        if match is None:
            sql, params = _scan_sql(
                "SELECT d.id, d.ticket_id, 0 FROM search_document AS d", where, ("", []), below
            )
        elif narrow:
            # Few candidate documents: walk them and ask FTS5 about each.
            sql, params = _scan_sql(
                "SELECT d.id, d.ticket_id, 0 FROM search_document AS d",
                where,
                (self._exists(), [to_fts5(match, contacts=where.contacts)]),
                below,
            )
        else:
            # Many: walk the full-text matches newest first (FTS5 delivers rowids in
            # descending order without sorting) and stop at the limit.
            rank = self.rank_sql if ranked else "0"
            sql, params = _scan_sql(
                f"SELECT f.rowid, d.ticket_id, {rank} FROM {self.table} AS f "  # noqa: S608
                "CROSS JOIN search_document AS d ON d.id = f.rowid",
                where,
                (f"{self.table} MATCH %s", [to_fts5(match, contacts=where.contacts)]),
                below,
            )
            sql = sql.replace("d.id < %s", "f.rowid < %s")
        sql += " ORDER BY 1 DESC LIMIT %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            rows = [(int(a), int(b), float(c)) for a, b, c in cursor.fetchall()]
            if ranked and narrow and match is not None:
                # One look-up per document: FTS5 answers ``rowid = ?`` quickly, not ``IN``.
                query = to_fts5(match, contacts=where.contacts)
                ranks = {}
                for doc_id, _ticket, _rank in rows:
                    cursor.execute(
                        f"SELECT {self.rank_sql} FROM {self.table} "  # noqa: S608
                        f"WHERE {self.table} MATCH %s AND rowid = %s",
                        [query, doc_id],
                    )
                    found = cursor.fetchone()
                    ranks[doc_id] = float(found[0]) if found else 0.0
                rows = [(d, t, ranks[d]) for d, t, _r in rows]
            return rows

    def matching(self, match: Node, ids: Sequence[int], *, contacts: bool) -> set[int]:
        if not ids:
            return set()
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.id FROM search_document AS d WHERE d.id IN ({marks}) "  # noqa: S608
                f"AND {self._exists()}",
                [*ids, to_fts5(match, contacts=contacts)],
            )
            return {int(row[0]) for row in cursor.fetchall()}

    def optimize(self) -> None:
        """Merge the index's segments into one (after a bulk load: faster look-ups)."""
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {self.table}({self.table}) VALUES ('optimize')")  # noqa: S608

    def prune(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE rowid NOT IN "  # noqa: S608
                "(SELECT id FROM search_document)"
            )
            return int(cursor.rowcount or 0)

    def index_bytes(self) -> int:
        with connection.cursor() as cursor:
            try:
                cursor.execute(
                    "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE %s "
                    "OR name LIKE %s",
                    [f"{self.table}%", "search_%"],
                )
            except Exception:  # dbstat is an optional SQLite module
                return 0
            return int(cursor.fetchone()[0])


def tsvector_literal(head: Sequence[str], contact: Sequence[str], body: Sequence[str]) -> str:
    positions: dict[str, list[str]] = defaultdict(list)
    position = 0
    for part, weight in ((head, "A"), (contact, "B"), (body, "")):
        for token in part:
            position = min(position + 1, PG_MAX_POSITION)
            if len(positions[token]) < PG_MAX_POSITIONS_PER_LEXEME:
                positions[token].append(f"{position}{weight}")
        position += 1  # a gap: no phrase spans two parts
    return " ".join(f"'{token}':{','.join(places)}" for token, places in positions.items())


class PostgresBackend:
    def write(self, texts: Sequence[IndexedText]) -> None:
        if not texts:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE search_document SET tsv = %s::tsvector WHERE id = %s",
                [(tsvector_literal(t.head, t.contact, t.body), t.id) for t in texts],
            )

    def delete(self, ids: Sequence[int]) -> None:
        """The vector goes with its row."""

    def scan(
        self,
        match: Node | None,
        where: Conditions,
        *,
        below: int | None,
        limit: int,
        narrow: bool,
        ranked: bool = False,
    ) -> list[tuple[int, int, float]]:
        tsquery = to_tsquery(match, contacts=where.contacts) if match else ""
        condition = ("d.tsv @@ %s::tsquery", [tsquery]) if match else ("", [])
        rank = "ts_rank(d.tsv, %s::tsquery)" if ranked and match else "0"
        sql, params = _scan_sql(
            f"SELECT d.id, d.ticket_id, {rank} FROM search_document AS d",  # noqa: S608
            where,
            condition,
            below,
        )
        if rank != "0":
            params.insert(0, tsquery)
        sql += " ORDER BY d.id DESC LIMIT %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            return [(int(a), int(b), float(c)) for a, b, c in cursor.fetchall()]

    def matching(self, match: Node, ids: Sequence[int], *, contacts: bool) -> set[int]:
        if not ids:
            return set()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM search_document WHERE id = ANY(%s) AND tsv @@ %s::tsquery",
                [list(ids), to_tsquery(match, contacts=contacts)],
            )
            return {int(row[0]) for row in cursor.fetchall()}

    def optimize(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_document")

    def prune(self) -> int:
        return 0  # the vector is a column of the document's own row

    def index_bytes(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('search_document')")
            return int(cursor.fetchone()[0])


def backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    return SqliteBackend()
