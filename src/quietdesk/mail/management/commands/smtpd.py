from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from quietdesk.mail.smtp import InboundController, InboundHandler


class Command(BaseCommand):
    help = "Receive mail over SMTP for the configured mailboxes (put it behind your MX)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        controller = InboundController(
            InboundHandler(),
            hostname=options["host"],
            port=options["port"],
            data_size_limit=settings.MAIL_MAX_BYTES,
            decode_data=False,
        )
        controller.start()
        self.stdout.write(
            f"Receiving mail on {options['host']}:{options['port']} "
            f"(messages up to {settings.MAIL_MAX_BYTES // (1024 * 1024)} MB); Ctrl-C stops."
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        controller.stop()
