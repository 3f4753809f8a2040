"""SQLite, kept fast as requests and data grow.

Three changes to Django's backend, each following SQLite's own advice:

* **Connections are reused.** Django opens a connection per request, and a new SQLite
  connection costs several milliseconds (opening the file, parsing the schema, running
  the start-up pragmas): about half of a ticket creation. Each server process keeps up
  to ``POOL_SIZE`` idle connections and hands them out again; a connection goes back to
  the pool only when it is clean (no open transaction, no error). Idle pooled
  connections also keep the write-ahead log in place, which SQLite otherwise
  checkpoints and deletes, with several fsyncs, whenever the last connection closes.
* **Writers queue without sleeping.** SQLite lets one writer in at a time; a second one
  retries on a schedule of sleeps (1, 2, 5, 10 … 100 ms), which turns a 5 ms wait into
  a 20 to 100 ms one. Every transaction (``BEGIN IMMEDIATE``) first takes an advisory
  ``flock`` on a file next to the database, released at commit or rollback, so writers
  in all server processes and threads wait for each other and hand over within a couple
  of milliseconds.
* **Planner statistics.** The query planner needs ``sqlite_stat1`` to choose between
  walking an index in the requested order and collecting then sorting matches: without
  it a scoped ticket list at 100,000 tickets sorts tens of thousands of rows instead of
  reading the first page in order. A connection runs ``PRAGMA optimize`` each time a
  request is done with it (about 0.3 ms at 100,000 tickets): it re-analyses only the
  tables that request used whose statistics are missing or stale.
* **Checkpoints happen beside requests, not inside them.** In WAL mode a commit only
  appends to the log; copying the log back into the database (a checkpoint, with its
  fsyncs) is what costs. SQLite does it in whichever commit crosses 1,000 log pages,
  and that request, plus every writer queued behind it, waits 30 to 100 ms. Here each
  process runs a daemon thread that checkpoints passively (never blocking readers or
  writers) once a second, and request connections only checkpoint themselves as a
  safety net when the log passes ``SAFETY_CHECKPOINT_PAGES``.
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

POOL_SIZE = 8
#: How often the background thread checkpoints, in seconds.
CHECKPOINT_INTERVAL = 1.0
#: Log size (pages) at which a committing request checkpoints itself anyway: only
#: reached if the background thread cannot keep up or has stopped.
SAFETY_CHECKPOINT_PAGES = 20_000

_pools: dict[str, list[sqlite3.Connection]] = {}
_pool_lock = threading.Lock()
_checkpointers: dict[str, threading.Thread] = {}


def _checkpoint_forever(path: str) -> None:
    """Copy committed log pages into the database file, without blocking anyone."""
    conn: sqlite3.Connection | None = None
    while True:
        time.sleep(CHECKPOINT_INTERVAL)
        try:
            if conn is None:
                conn = sqlite3.connect(path, timeout=0, check_same_thread=False)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            # A busy or vanished database: try again later with a fresh connection.
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            conn = None


def _ensure_checkpointer(path: str) -> None:
    with _pool_lock:
        thread = _checkpointers.get(path)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(
            target=_checkpoint_forever, args=(path,), name="sqlite-checkpoint", daemon=True
        )
        _checkpointers[path] = thread
        thread.start()


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_lock_fd: int | None = None
    _holds_writer_lock = False

    # --- Connection reuse -------------------------------------------------------------

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if not self.is_in_memory_db():
            with _pool_lock:
                pool = _pools.get(str(conn_params["database"]))
                if pool:
                    return pool.pop()
            raw = super().get_new_connection(conn_params)
            raw.execute(f"PRAGMA wal_autocheckpoint={SAFETY_CHECKPOINT_PAGES}")
            _ensure_checkpointer(str(conn_params["database"]))
            return raw
        return super().get_new_connection(conn_params)

    def _close(self) -> None:
        raw = self.connection
        try:
            if raw is not None and not self.is_in_memory_db():
                # Statistics are an optimisation: never fail a request for them.
                with contextlib.suppress(sqlite3.Error):
                    raw.execute("PRAGMA optimize")
            if raw is not None and not self._return_to_pool(raw):
                super()._close()  # type: ignore[misc]
        finally:
            self._drop_writer_lock()
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)
                self._writer_lock_fd = None

    def _return_to_pool(self, raw: sqlite3.Connection) -> bool:
        """Keep ``raw`` for a later request if it is clean; True when kept."""
        if self.is_in_memory_db() or self.errors_occurred or self.in_atomic_block:
            return False  # closed mid-transaction or after an error: really close it
        try:
            if raw.in_transaction:
                raw.rollback()
        except sqlite3.Error:
            return False
        with _pool_lock:
            pool = _pools.setdefault(str(self.settings_dict["NAME"]), [])
            if len(pool) >= POOL_SIZE:
                return False
            pool.append(raw)
        return True

    # --- One writer at a time, without sleeping ----------------------------------------

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
