"""What is forced to disk before a sender is told "stored"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from quietdesk.db import flush_commits
from quietdesk.tickets.files import write_once


@pytest.fixture
def synced(monkeypatch) -> list[str]:
    """The paths fsync'ed, by name."""
    names: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        names.append(str(Path(f"/proc/self/fd/{fd}").readlink()))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return names


def test_a_durable_write_syncs_the_file_and_its_directory(settings, tmp_path, synced):
    settings.MEDIA_ROOT = tmp_path
    name = write_once("mail/ab/cd/raw.eml", ContentFile(b"From: a@b.example\r\n"), 19, durable=True)
    stored = tmp_path / name
    assert stored.read_bytes() == b"From: a@b.example\r\n"
    assert synced[0].startswith(str(stored.parent)) and synced[0].endswith(".part")
    # Then the rename (in its folder), and each folder made (in its parent).
    assert synced[1:] == [str(stored.parent), *(str(tmp_path / p) for p in ("", "mail", "mail/ab"))]
    synced.clear()
    write_once("mail/ab/cd/again.eml", ContentFile(b"y"), 1, durable=True)  # folders exist
    assert synced[1:] == [str(stored.parent)]
    synced.clear()
    write_once("mail/ab/cd/other.eml", ContentFile(b"x"), 1)  # attachments: no waiting
    assert synced == []


@pytest.mark.django_db
def test_committed_sqlite_transactions_are_forced_to_disk(monkeypatch, tmp_path, synced):
    if connection.vendor != "sqlite":
        flush_commits()  # PostgreSQL commits are durable: nothing to do
        assert synced == []
        return
    database = tmp_path / "quietdesk.sqlite3"
    (tmp_path / "quietdesk.sqlite3-wal").write_bytes(b"log")
    monkeypatch.setitem(connection.settings_dict, "NAME", str(database))
    flush_commits()
    assert synced == [f"{database}-wal"]
