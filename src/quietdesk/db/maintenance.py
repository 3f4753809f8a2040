"""Database housekeeping that runs with migrations."""

from __future__ import annotations

from typing import Any

from django.db import connections


def analyze_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """Refresh the planner's statistics after a schema change (SQLite and PostgreSQL)."""
    connection = connections[using]
    if connection.vendor in ("sqlite", "postgresql"):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
