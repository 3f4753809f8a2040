"""``quietdesk search reindex``: bring the search index up to date with the database.

For imports and upgrades. Every ticket's documents are compared with what is stored
(by fingerprint) and only differences are written, so running it twice changes
nothing the second time.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from quietdesk.search.backends import backend
from quietdesk.search.extract import kind_of
from quietdesk.search.indexing import index_tickets
from quietdesk.search.models import AttachmentText
from quietdesk.search.tasks import extract_attachment_text
from quietdesk.tickets.models import Attachment, Ticket


class Command(BaseCommand):
    help = "Search: rebuild or check the full-text index."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        again = sub.add_parser(
            "reindex", help="Index every ticket, message and attachment text (safe to repeat)."
        )
        again.add_argument("--batch", type=int, default=500, help="Tickets per transaction.")
        again.add_argument(
            "--extract",
            action="store_true",
            help="Also read the text of attachments never read before (can be slow).",
        )
        again.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(stderr=True)
        quiet = options["json"] or options["verbosity"] == 0
        counts = {"tickets": 0, "documents_changed": 0, "attachments_read": 0, "pruned": 0}
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, disable=quiet) as progress:
            if options["extract"]:
                unread = list(
                    Attachment.objects.exclude(
                        pk__in=AttachmentText.objects.values("attachment_id")
                    )
                    .order_by("id")
                    .only("id", "content_type", "filename")
                )
                unread = [a for a in unread if kind_of(a) is not None]
                task = progress.add_task("attachments", total=len(unread))
                for attachment in unread:
                    extract_attachment_text.call(attachment.pk)
                    counts["attachments_read"] += 1
                    progress.advance(task)
            ids = list(Ticket.objects.order_by("id").values_list("id", flat=True))
            task = progress.add_task("tickets", total=len(ids))
            batch = max(1, options["batch"])
            for start in range(0, len(ids), batch):
                chunk = ids[start : start + batch]
                with transaction.atomic():
                    counts["documents_changed"] += index_tickets(chunk)
                counts["tickets"] += len(chunk)
                progress.advance(task, len(chunk))
            with transaction.atomic():
                counts["pruned"] = backend().prune()
            if counts["documents_changed"] or counts["pruned"]:
                backend().optimize()
        if options["json"]:
            self.stdout.write(json.dumps(counts))
            return
        self.stdout.write(
            "Indexed {tickets} tickets: {documents_changed} documents changed, "
            "{attachments_read} attachments read, {pruned} stale index entries removed.".format(
                **counts
            )
        )
