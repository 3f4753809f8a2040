"""The requesters' addresses and phone numbers get a part of their own in the index.

Customers who share their organisation's tickets must not find a colleague's address or
number by searching for it; the service team still does. SQLite: ``search_fts`` gains a
``contact`` column (FTS5 tables cannot be altered: a new table is filled from the old
one). PostgreSQL: nothing to change in the schema (contact tokens get weight B).

Documents indexed before keep those details in their head until ``quietdesk search
reindex`` rewrites them (their fingerprints changed, so it rewrites every one).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FORWARD = [
    "CREATE VIRTUAL TABLE search_fts_new USING fts5("
    "head, contact, body, tokenize = 'ascii', prefix = '2 3')",
    "INSERT INTO search_fts_new (rowid, head, contact, body) "
    "SELECT rowid, head, '', body FROM search_fts",
    "DROP TABLE search_fts",
    "ALTER TABLE search_fts_new RENAME TO search_fts",
]
BACKWARD = [
    "CREATE VIRTUAL TABLE search_fts_old USING fts5("
    "head, body, tokenize = 'ascii', prefix = '2 3')",
    "INSERT INTO search_fts_old (rowid, head, body) "
    "SELECT rowid, trim(head || ' ' || contact), body FROM search_fts",
    "DROP TABLE search_fts",
    "ALTER TABLE search_fts_old RENAME TO search_fts",
]


def _sqlite(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0003_people_by_address")]

    operations = [migrations.RunPython(_sqlite(FORWARD), _sqlite(BACKWARD))]
