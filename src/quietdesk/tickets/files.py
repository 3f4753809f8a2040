"""Content-addressed attachment storage through Django's storage API."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from quietdesk.errors import TooLarge, ValidationFailed
from quietdesk.tickets.models import Blob


class Upload(Protocol):
    """What every channel hands over for a file: an uploaded file, a mail part, a test."""

    name: str | None
    content_type: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]: ...


@dataclass
class InMemoryUpload:
    """An attachment whose bytes are already in memory (mail parts, tests)."""

    name: str | None
    content: bytes
    content_type: str | None = None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        size = chunk_size or 64 * 1024
        for start in range(0, len(self.content), size):
            yield self.content[start : start + size]


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def clean_filename(name: str | None) -> str:
    """A file name safe to show and to send back in Content-Disposition."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_FILENAME.sub("_", base).strip(" .")
    return base[:200] or _("attachment")


def guess_content_type(filename: str, declared: str | None) -> str:
    if declared and "/" in declared and len(declared) <= 127:
        return declared.split(";", 1)[0].strip().lower()
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def store_blob(upload: Upload) -> Blob:
    """Hash and store the upload once; enforce ATTACHMENT_MAX_BYTES while reading."""
    limit = settings.ATTACHMENT_MAX_BYTES
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                raise TooLarge(
                    _("%(name)s is larger than the %(limit)d MB limit for attachments.")
                    % {"name": clean_filename(upload.name), "limit": limit // (1024 * 1024)}
                )
            digest.update(chunk)
            spool.write(chunk)
        sha256 = digest.hexdigest()
        existing = Blob.objects.filter(sha256=sha256).first()
        if existing is not None:
            return existing
        spool.seek(0)
        name = f"attachments/{sha256[:2]}/{sha256[2:4]}/{sha256}"
        stored_name = write_once(name, File(spool, name=sha256), size)
    try:
        with transaction.atomic():
            return Blob.objects.create(sha256=sha256, size=size, storage_name=stored_name)
    except IntegrityError:
        return Blob.objects.get(sha256=sha256)


def write_once(name: str, content: File[Any], size: int, *, durable: bool = False) -> str:
    """Store content-addressed ``content`` under ``name`` unless it is already complete.

    A file of the wrong size is what a process killed while writing leaves behind (with
    a storage other than the local file system): it is replaced, never trusted.
    ``durable`` also forces the file and its name to disk before returning (the raw
    bytes of a mail we are about to accept), so that a power cut cannot take them back.
    """
    if isinstance(default_storage, FileSystemStorage):
        return _write_local(name, content, size, durable=durable)
    if default_storage.exists(name):
        if default_storage.size(name) == size:
            return name
        default_storage.delete(name)
    return default_storage.save(name, content)


def _write_local(name: str, content: File[Any], size: int, *, durable: bool = False) -> str:
    """The local file system: write a temporary file, then rename it into place.

    The rename is atomic, so a file under its final name is always complete; a crash
    leaves at most a ``.part`` file, which the next write of the same content replaces.
    This is also a third of the system calls of ``FileSystemStorage.save``.
    """
    path = Path(default_storage.path(name))
    try:
        if path.stat().st_size == size:
            return name
    except FileNotFoundError:
        pass
    created = []  # folders this write makes: their names live in their parents
    folder = path.parent
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{secrets.token_hex(6)}.part")
    content.seek(0)
    with partial.open("wb") as handle:
        for chunk in content.chunks():
            handle.write(chunk)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    partial.replace(path)
    if durable:  # the rename lives in the folder, and each new folder in its parent
        for folder in [path.parent, *(made.parent for made in reversed(created))]:
            _sync_folder(folder)
    return name


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@dataclass(frozen=True)
class StoredUpload:
    """An upload whose content is stored, ready to be attached to a message."""

    blob: Blob
    filename: str
    content_type: str


def store_uploads(uploads: Sequence[Upload]) -> list[StoredUpload]:
    """Check and store every upload before any transaction starts.

    Hashing and writing files can take a while; doing it first keeps the database's
    write lock short. A file stored for a change that then fails stays as an unused
    blob (content-addressed, so a retry reuses it).
    """
    stored = []
    for upload in uploads:
        validate_upload_name(upload)
        filename = clean_filename(upload.name)
        stored.append(
            StoredUpload(
                store_blob(upload), filename, guess_content_type(filename, upload.content_type)
            )
        )
    return stored


def open_blob(blob: Blob) -> IO[bytes]:
    return default_storage.open(blob.storage_name, "rb")


def validate_upload_name(upload: Upload) -> None:
    if upload.name is not None and len(upload.name) > 1000:
        raise ValidationFailed(
            {"attachments": _("A file name can have at most %(max)d characters.") % {"max": 1000}}
        )
