"""SQLite, kept well planned and cheap to reconnect to.

Two changes to Django's backend, both following SQLite's own advice:

* **Planner statistics.** The query planner needs ``sqlite_stat1`` to choose between
  walking an index in the requested order and collecting then sorting matches: without
  it a scoped ticket list at 100,000 tickets sorts tens of thousands of rows instead of
  reading the first page in order. Each connection runs ``PRAGMA optimize`` as it
  closes, which re-analyses only the tables it used whose statistics are missing or
  stale, and is otherwise nearly free.
* **Writers queue without sleeping.** SQLite lets one writer in at a time; a second one
  retries on a schedule of sleeps (1, 2, 5, 10 … 100 ms), which turns a 5 ms wait into
  a 20 to 100 ms one. Every transaction (``BEGIN IMMEDIATE``) first takes an advisory
  ``flock`` on a file next to the database, released at commit or rollback, so writers
  in all server processes and threads wait for each other and hand over within a couple
  of milliseconds.
* **One idle connection per process.** Django opens and closes a connection per
  request. When the last connection to a WAL database closes, SQLite checkpoints and
  deletes the write-ahead log, so every request paid several fsyncs. A connection that
  stays open (and idle) for the life of the process keeps the log in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
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
    _writer_lock_fd: int | None = None
    _holds_writer_lock = False

    def _start_transaction_under_autocommit(self) -> None:
        if not self.is_in_memory_db():
            self._take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._drop_writer_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._drop_writer_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._drop_writer_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._drop_writer_lock()
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)
                self._writer_lock_fd = None

    def _take_writer_lock(self) -> None:
        if self._writer_lock_fd is None:
            path = f"{self.settings_dict['NAME']}-writer.lock"
            self._writer_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        pause = 0.0002
        while True:
            try:
                fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (another writer held it past the timeout)"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
            else:
                self._holds_writer_lock = True
                return

    def _drop_writer_lock(self) -> None:
        if self._holds_writer_lock and self._writer_lock_fd is not None:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)
        self._holds_writer_lock = False

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
