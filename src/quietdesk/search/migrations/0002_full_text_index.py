"""The full-text index itself, different on each backend.

SQLite: an FTS5 table whose rowid is ``search_document.id``. PostgreSQL: a ``tsvector``
column on ``search_document`` with a GIN index. Each operation does nothing on the
other backend, so one migration history serves both.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "head, body, tokenize = 'ascii', prefix = '2 3')"
)
SQLITE_DROP = "DROP TABLE IF EXISTS search_fts"
PG_CREATE = [
    "ALTER TABLE search_document ADD COLUMN tsv tsvector NOT NULL DEFAULT ''",
    "CREATE INDEX search_document_tsv ON search_document USING gin (tsv) "
    "WITH (fastupdate = off)",
]
PG_DROP = [
    "DROP INDEX IF EXISTS search_document_tsv",
    "ALTER TABLE search_document DROP COLUMN IF EXISTS tsv",
]


def _run(vendor: str, statements: str | list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != vendor:
            return
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(_run("sqlite", SQLITE_CREATE), _run("sqlite", SQLITE_DROP)),
        migrations.RunPython(_run("postgresql", PG_CREATE), _run("postgresql", PG_DROP)),
    ]
