from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from quietdesk.mail.archive import import_paths
from quietdesk.mail.inbound import process
from quietdesk.mail.models import InboundMail, InboundStatus, Mailbox


class Command(BaseCommand):
    help = "Mail: import archives (.eml, mbox, Maildir) and reprocess stored mail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        importing = sub.add_parser("import", help="Import .eml files, mbox files, Maildir folders.")
        importing.add_argument("paths", nargs="+", type=Path)
        importing.add_argument("--mailbox", help="Address of the mailbox they were sent to.")
        importing.add_argument("--json", action="store_true", help="Print the counts as JSON.")
        again = sub.add_parser("reprocess", help="Retry stored mail that could not be processed.")
        again.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options)
        else:
            self._reprocess(options)

    def _import(self, options: dict[str, Any]) -> None:
        paths: list[Path] = options["paths"]
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist.")
        mailbox = None
        if options["mailbox"]:
            mailbox = Mailbox.objects.filter(address=options["mailbox"].lower()).first()
            if mailbox is None:
                known = ", ".join(Mailbox.objects.values_list("address", flat=True)) or "none"
                raise CommandError(f"No mailbox {options['mailbox']}; known: {known}.")
        console = Console(stderr=True)
        columns = (TextColumn("mail"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, disable=options["json"]) as progress:
            # Archives are read once: the total is only known at the end.
            task = progress.add_task("import", total=None)
            counts = import_paths(paths, mailbox=mailbox, progress=lambda: progress.advance(task))
        if options["json"]:
            self.stdout.write(json.dumps(counts.as_dict()))
            return
        self.stdout.write(
            "Received {received}: {created} new tickets, {appended} added to tickets, "
            "{duplicates} already there, {failed} unprocessable.".format(**counts.as_dict())
        )
        for failure in counts.failures[:20]:
            self.stdout.write(f"  unprocessable {failure}")

    def _reprocess(self, options: dict[str, Any]) -> None:
        waiting = InboundMail.objects.filter(
            status__in=(InboundStatus.RECEIVED, InboundStatus.UNPROCESSABLE)
        ).order_by("id")
        counts = {"retried": 0, "processed": 0, "unprocessable": 0}
        for inbound in waiting.iterator():
            result = process(inbound)
            counts["retried"] += 1
            key = "unprocessable" if result.status == InboundStatus.UNPROCESSABLE else "processed"
            counts[key] += 1
        if options["json"]:
            self.stdout.write(json.dumps(counts))
        else:
            summary = "Retried {retried}: {processed} processed, {unprocessable} unprocessable."
            self.stdout.write(summary.format(**counts))
