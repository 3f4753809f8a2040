from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quietdesk.mail.imap import fetch
from quietdesk.mail.models import Mailbox


class Command(BaseCommand):
    help = (
        "Fetch new mail from the mailboxes' IMAP servers (once, or every --interval with --watch)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="Only this mailbox address.")
        parser.add_argument("--watch", action="store_true", help="Keep polling until stopped.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between polls.")

    def handle(self, *args: Any, **options: Any) -> None:
        boxes = Mailbox.objects.exclude(imap_host="")
        if options["mailbox"]:
            boxes = boxes.filter(address=options["mailbox"].lower())
        if not boxes.exists():
            raise CommandError("No mailbox has an IMAP server; set one in the admin first.")
        stop = threading.Event()
        if options["watch"]:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        while True:
            for mailbox in boxes:
                result = fetch(mailbox)
                line = f"{result.mailbox}: {result.stored} stored of {result.fetched} fetched"
                if result.error:
                    self.stderr.write(f"{line}; {result.error} (will retry)")
                else:
                    self.stdout.write(line)
            if not options["watch"] or stop.wait(options["interval"]):
                return
