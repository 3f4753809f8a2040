"""Database helpers shared by the domain apps."""

from __future__ import annotations

import os

from django.db import connection


def flush_commits() -> None:
    """Make the transactions committed so far survive a power cut, not only a crash.

    SQLite runs in WAL mode with ``synchronous=NORMAL``: a commit appends to the log
    without waiting for the disk (a crashed process loses nothing; a power cut may lose
    the last commits). Before we tell a sender "stored" (SMTP 250, an IMAP message
    flagged), the log is forced to disk: an fsync of the ``-wal`` file, about half a
    millisecond here. PostgreSQL's commits are durable already (``synchronous_commit``).
    """
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return  # an in-memory database (tests) has nothing on disk
    try:
        log = os.open(f"{name}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return  # not in WAL mode: synchronous commits are already on disk
    try:
        os.fsync(log)
    finally:
        os.close(log)
