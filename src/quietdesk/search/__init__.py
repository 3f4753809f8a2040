"""Full-text search over tickets, messages, attachments and contacts.

One query language and one interface (:func:`quietdesk.search.queries.search`) over two
backends: SQLite FTS5 (the embedded default) and PostgreSQL full-text search. Text is
folded and split into words in Python (:mod:`quietdesk.search.text`) so that both
backends index exactly the same tokens. See docs/decisions/0006-search.md.
"""
