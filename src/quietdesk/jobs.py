"""Background work: queued tasks and periodic sweeps, in a thread or its own process.

``quietdesk worker`` runs :func:`run_forever` in the foreground (for installations that
scale out); ``quietdesk serve`` starts it in a daemon thread unless ``--no-worker`` is
given, so that the embedded default needs one command and no extra server.

Each round runs every task that is ready in the database queue (django-tasks-db), then
the periodic jobs that are due, then sleeps a little.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


@dataclass
class Periodic:
    name: str
    every: float
    run: Callable[[], object]
    last: float = 0.0


def _sla_sweep() -> object:
    from quietdesk.sla.recompute import sweep

    return sweep()


def _mail_retries() -> object:
    from quietdesk.mail.outbound import send_due

    return send_due()


def _mail_stale() -> object:
    from quietdesk.mail.inbound import process_stale

    return process_stale()


PERIODIC = [
    Periodic("sla sweep", 30.0, _sla_sweep),
    Periodic("mail retries", 30.0, _mail_retries),
    Periodic("mail left unprocessed", 60.0, _mail_stale),
]


def run_queued_tasks() -> None:
    """Run every ready task of the database queue, then return."""
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if not backend.startswith("django_tasks_db"):
        return  # another backend runs its own workers (or runs tasks at once)
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"quietdesk-{uuid.uuid4().hex[:8]}",
        excluded_queue_names=[],
    ).run()


def run_once(now: float | None = None) -> None:
    now = time.monotonic() if now is None else now
    try:
        run_queued_tasks()
    except Exception:
        logger.exception("Running queued tasks failed; trying again next round")
    for job in PERIODIC:
        if now - job.last >= job.every:
            job.last = now
            try:
                job.run()
            except Exception:
                logger.exception("Periodic job %s failed; trying again next round", job.name)
    close_old_connections()


def run_forever(stop: threading.Event, pause: float = 2.0) -> None:
    logger.info("Background worker started")
    while not stop.is_set():
        run_once()
        stop.wait(pause)


def start_in_thread() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="quietdesk-worker", daemon=True).start()
    return stop
