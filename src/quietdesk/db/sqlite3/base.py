"""SQLite, kept well planned as the data grows.

SQLite's query planner needs table statistics (``sqlite_stat1``) to choose between
walking an index in the requested order and collecting then sorting matches: without
them a scoped ticket list at 100,000 tickets sorts tens of thousands of rows instead of
reading the first page in order. SQLite's advice for short-lived connections is to run
``PRAGMA optimize`` as each one closes: it re-analyses only the tables this connection
used whose statistics are missing or out of date, and is otherwise nearly free.
"""

from __future__ import annotations

import contextlib
import sqlite3

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close(self) -> None:
        if self.connection is not None and not self.is_in_memory_db():
            # Statistics are an optimisation: never fail a request for them.
            with contextlib.suppress(sqlite3.Error):
                self.connection.execute("PRAGMA optimize")
        super().close()
