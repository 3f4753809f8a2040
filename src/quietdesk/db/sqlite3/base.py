"""SQLite, kept well planned and cheap to reconnect to.

Two changes to Django's backend, both following SQLite's own advice:

* **Planner statistics.** The query planner needs ``sqlite_stat1`` to choose between
  walking an index in the requested order and collecting then sorting matches: without
  it a scoped ticket list at 100,000 tickets sorts tens of thousands of rows instead of
  reading the first page in order. Each connection runs ``PRAGMA optimize`` as it
  closes, which re-analyses only the tables it used whose statistics are missing or
  stale, and is otherwise nearly free.
* **One idle connection per process.** Django opens and closes a connection per
  request. When the last connection to a WAL database closes, SQLite checkpoints and
  deletes the write-ahead log, so every request paid several fsyncs. A connection that
  stays open (and idle) for the life of the process keeps the log in place.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

_keepers: dict[str, sqlite3.Connection] = {}
_keepers_lock = threading.Lock()


def _keep_open(database: str) -> None:
    with _keepers_lock:
        if database in _keepers:
            return
        keeper = sqlite3.connect(database, check_same_thread=False)
        # A first read maps the WAL index, which is what marks the database in use.
        keeper.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        _keepers[database] = keeper


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            with contextlib.suppress(sqlite3.Error):
                _keep_open(str(conn_params["database"]))
        return connection

    def close(self) -> None:
        if self.connection is not None and not self.is_in_memory_db():
            # Statistics are an optimisation: never fail a request for them.
            with contextlib.suppress(sqlite3.Error):
                self.connection.execute("PRAGMA optimize")
        super().close()
