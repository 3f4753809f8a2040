from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from quietdesk import jobs


class Command(BaseCommand):
    help = "Run background tasks and periodic jobs (SLA sweeps) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            jobs.run_once()
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("Quietdesk worker running; Ctrl-C stops it.")
        jobs.run_forever(stop)
