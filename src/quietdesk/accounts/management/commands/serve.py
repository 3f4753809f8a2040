from __future__ import annotations

from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Quietdesk over ASGI with uvicorn."
    requires_system_checks = []  # uvicorn workers import the app and run it

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--reload", action="store_true", help="Restart on code changes.")
        parser.add_argument("--log-level", default="info")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not run background tasks here (run `quietdesk worker` instead).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = f"http://{options['host']}:{options['port']}/"
        mode = "development (QUIETDESK_DEBUG=true)" if settings.DEBUG else "production"
        self.stdout.write(f"Quietdesk serving at {url} in {mode} mode; Ctrl-C stops it.")
        if not options["no_worker"]:
            from quietdesk import jobs

            jobs.start_in_thread()
            self.stdout.write("Background tasks (SLA sweeps, recomputations) run in this process.")
        uvicorn.run(
            "quietdesk.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=options["workers"] if not options["reload"] else None,
            reload=options["reload"],
            log_level=options["log_level"],
            lifespan="off",
            proxy_headers=True,
        )
