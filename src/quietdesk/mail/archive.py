"""Reading mail archives: .eml files, mbox files and Maildir folders, one message at a time."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from quietdesk.mail.inbound import accept
from quietdesk.mail.models import InboundMail, InboundStatus, Mailbox

MBOX_START = b"From "


@dataclass
class ImportCounts:
    received: int = 0
    created: int = 0
    appended: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "created": self.created,
            "appended": self.appended,
            "duplicates": self.duplicates,
            "failed": self.failed,
        }

    def add(self, inbound: InboundMail, *, new: bool) -> None:
        self.received += 1
        if not new or inbound.status == InboundStatus.DUPLICATE:
            self.duplicates += 1
        elif inbound.status == InboundStatus.UNPROCESSABLE:
            self.failed += 1
            self.failures.append(f"{inbound.public_id}: {inbound.reason[:200]}")
        elif inbound.outcome == "created":
            self.created += 1
        else:
            self.appended += 1


def messages_in(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw bytes) for every message under ``path``, in a stable order."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            maildir = stdlib_mailbox.Maildir(str(path), factory=None, create=False)
            for key in sorted(maildir.keys()):
                with maildir.get_file(key) as handle:
                    yield f"{path}/{key}", handle.read()
            return
        for child in sorted(path.iterdir()):
            yield from messages_in(child)
        return
    with path.open("rb") as handle:
        start = handle.read(5)
    if start == MBOX_START:
        box = stdlib_mailbox.mbox(str(path), factory=None, create=False)
        for index, key in enumerate(box.keys()):
            with box.get_file(key) as handle:
                yield f"{path}#{index + 1}", handle.read()
        return
    yield str(path), path.read_bytes()


def import_paths(
    paths: list[Path], *, mailbox: Mailbox | None, progress: Callable[[], None] | None = None
) -> ImportCounts:
    """Receive every message under ``paths``; running it again changes nothing."""
    counts = ImportCounts()
    for path in paths:
        for _where, raw in messages_in(path):
            received = accept(raw, source="import", mailbox=mailbox)
            counts.add(received.inbound, new=received.filed)
            if progress is not None:
                progress()
    return counts
