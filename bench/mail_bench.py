"""Inbound mail throughput: how many typical mails one process stores and files per second.

    .venv/bin/python bench/mail_bench.py                    # empty, then ~500,000 stored
    .venv/bin/python bench/mail_bench.py --mails 500 --stored 0

Each mail goes through the whole pipeline, `quietdesk.mail.inbound.receive`: raw bytes
stored and committed, parsed, contact found or created, threaded, ticket created or
message added, attachments stored. Mails are 2 to 50 KB, a fifth with an attachment, a
third replies to an earlier one of the run.

Sizes: ``--stored 0,500000``. For 0 the database is new. For a larger size the
100,000-ticket database of the API benchmark (``var/bench/tickets-100000.sqlite3``, made by
``bench/generate.py`` if missing; 463,893 messages, put in the search index once) is
copied, migrated, and given one received-mail row and one Message-ID reference per stored
message, up to the size, so that threading, de-duplication and indexing work on tables of
that size.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stored", default="0,500000", help="mails already stored, comma-separated"
    )
    parser.add_argument("--mails", type=int, default=2000, help="mails to receive per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one size
    return parser.parse_args()


def corpus(count: int, rng: random.Random, run: str) -> list[bytes]:
    words = [
        "invoice",
        "access",
        "error",
        "payment",
        "project",
        "report",
        "delay",
        "question",
        "thanks",
        "update",
    ]
    mails = []
    senders: list[int] = []
    for index in range(count):
        size = rng.randint(2_000, 50_000)
        earlier = rng.randrange(index) if index > 20 and rng.random() < 0.33 else None
        sender = senders[earlier] if earlier is not None else index % 300
        senders.append(sender)
        headers = [
            f"From: Customer {sender} <c{sender}.{run}@client{sender % 17}.example>",
            "To: support@quietdesk.example",
            f"Subject: {' '.join(rng.choices(words, k=5))}",
            f"Message-ID: <bench-{run}-{index}@client.example>",
            f"Date: Mon, 23 Nov 2026 09:{index % 60:02d}:00 +0100",
        ]
        if earlier is not None:  # the same customer answers in an earlier thread
            headers.append(f"In-Reply-To: <bench-{run}-{earlier}@client.example>")
        attach = rng.random() < 0.2
        text_size = size // 3 if attach else size
        body = " ".join(rng.choices(words, k=text_size // 8))[:text_size]
        if attach:
            blob = os.urandom((size - text_size) // 2).hex()
            mail = (
                "\r\n".join(headers)
                + '\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="qd"\r\n\r\n'
                + f"--qd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
                + "--qd\r\nContent-Type: application/octet-stream\r\n"
                + f'Content-Disposition: attachment; filename="log-{index}.txt"\r\n\r\n'
                + f"{blob}\r\n--qd--\r\n"
            )
        else:
            mail = (
                "\r\n".join(headers)
                + f"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            )
        mails.append(mail.encode())
    return mails


def measure(stored: int, mails: int, seed: int) -> dict[str, object]:
    """In this process: prepare the database for ``stored``, then receive ``mails``."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from quietdesk.accounts.models import Team
    from quietdesk.mail.inbound import receive
    from quietdesk.mail.models import InboundMail, Mailbox, MailReference
    from quietdesk.tickets.models import Message

    call_command("migrate", verbosity=0)
    have = InboundMail.objects.count()
    if have < stored:
        ids = Message.objects.order_by("id").values_list("id", "ticket_id")
        batch_in, batch_ref = [], []
        pairs = list(ids)
        for number in range(stored - have):
            message_id, ticket_id = pairs[number % len(pairs)]
            key = f"{number:064x}"
            mid = f"stored-{number}@history.example"
            batch_in.append(
                InboundMail(
                    sha256=key,
                    size=10_000,
                    storage_name=f"mail/{key}.eml",
                    source="import",
                    status="processed",
                    message_id=mid,
                    ticket_id=ticket_id,
                    ticket_message_id=message_id,
                    outcome="appended",
                )
            )
            batch_ref.append(MailReference(message_id=mid, ticket_id=ticket_id))
            if len(batch_in) == 5000:
                with transaction.atomic():
                    InboundMail.objects.bulk_create(batch_in)
                    MailReference.objects.bulk_create(batch_ref)
                batch_in, batch_ref = [], []
        with transaction.atomic():
            InboundMail.objects.bulk_create(batch_in)
            MailReference.objects.bulk_create(batch_ref)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    team = Team.objects.order_by("id").first()
    mailbox, _created = Mailbox.objects.get_or_create(
        address="support@quietdesk.example", defaults={"team": team}
    )
    rng = random.Random(seed)
    items = corpus(mails, rng, run=f"{stored}-{time.time_ns()}")
    for raw in items[:50]:  # warm-up, not counted
        receive(raw, mailbox=mailbox, source="bench")
    timings = []
    started = time.perf_counter()
    cpu = time.process_time()
    outcomes: dict[str, int] = {}
    by_outcome: dict[str, list[float]] = {}
    for raw in items[50:]:
        t0 = time.perf_counter()
        result = receive(raw, mailbox=mailbox, source="bench")
        timings.append((time.perf_counter() - t0) * 1000)
        outcome = result.outcome or result.status
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        by_outcome.setdefault(outcome, []).append(timings[-1])
    seconds = time.perf_counter() - started
    return {
        "stored_before": InboundMail.objects.count() - len(items),
        "messages_in_database": Message.objects.count(),
        "mails": len(timings),
        "mean_kb": round(sum(len(r) for r in items) / len(items) / 1024, 1),
        "per_second": round(len(timings) / seconds, 1),
        "cpu_ms_per_mail": round((time.process_time() - cpu) * 1000 / len(timings), 2),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(statistics.quantiles(timings, n=100)[94], 2),
        "outcomes": outcomes,
        # A new ticket (new contact, acknowledgement queued) costs more than a reply.
        "mean_ms_by_outcome": {k: round(statistics.fmean(v), 2) for k, v in by_outcome.items()},
    }


def _bench_env(database: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        DJANGO_SETTINGS_MODULE="quietdesk.settings",
        QUIETDESK_DATABASE_URL=f"sqlite:///{database}",
        QUIETDESK_DATA_DIR=str(data_dir),
        QUIETDESK_DEBUG="false",
        QUIETDESK_SECRET_KEY="bench-" + "x" * 60,
        QUIETDESK_LOG_LEVEL="ERROR",
        QUIETDESK_MAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    return env


def _history() -> Path:
    """The 100,000-ticket history (463,893 messages), generated and indexed once.

    Its messages are in the search index, as an installation's would be: every mail
    filed in the run adds to an index of that size, not to an empty one.
    """
    source = BENCH / "tickets-100000.sqlite3"
    indexed = source.with_suffix(".indexed")
    env = _bench_env(source, BENCH / "data-tickets-100000")
    quietdesk = str(Path(sys.executable).with_name("quietdesk"))
    if not source.exists():
        subprocess.run([quietdesk, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--tickets", "100000"],
            env=env,
            check=True,
        )
    if not indexed.exists():
        subprocess.run([quietdesk, "search", "reindex"], env=env, check=True)
        indexed.touch()
    with contextlib.closing(sqlite3.connect(source)) as db:  # one file, ready to copy
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return source


def prepare(stored: int) -> Path:
    target = BENCH / "mail"
    target.mkdir(parents=True, exist_ok=True)
    database = target / f"mail-{stored}.sqlite3"
    for leftover in target.glob(f"mail-{stored}.sqlite3*"):
        leftover.unlink()
    if stored:
        shutil.copy(_history(), database)
    return database


def main() -> int:
    args = parse_args()
    if args.one:
        stored, mails = (int(x) for x in args.one.split(":"))
        print(json.dumps(measure(stored, mails, args.seed)))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 150))
    console.print(
        f"[bold]Mail ingest[/bold] on {platform.node()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    table = Table(title="receive(): store, parse, thread, file — one process, SQLite")
    for column in (
        "stored before",
        "messages in db",
        "mails",
        "mean KB",
        "mails/s",
        "CPU ms/mail",
        "p50 ms",
        "p95 ms",
        "outcomes",
    ):
        table.add_column(column, justify="right")
    results = []
    for stored in (int(s) for s in args.stored.split(",")):
        database = prepare(stored)
        env = _bench_env(database, database.parent / f"data-{stored}")
        with console.status(f"receiving {args.mails:,} mails with {stored:,} already stored"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    f"{stored}:{args.mails}",
                    "--seed",
                    str(args.seed),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            console.print(done.stderr[-3000:])
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        table.add_row(
            f"{result['stored_before']:,}",
            f"{result['messages_in_database']:,}",
            f"{result['mails']:,}",
            str(result["mean_kb"]),
            str(result["per_second"]),
            str(result["cpu_ms_per_mail"]),
            str(result["p50_ms"]),
            str(result["p95_ms"]),
            ", ".join(
                f"{k} {v} ({result['mean_ms_by_outcome'][k]} ms)"
                for k, v in sorted(result["outcomes"].items())
            ),
        )
    console.print(table)
    if len(results) > 1:
        drop = 1 - float(results[-1]["per_second"]) / float(results[0]["per_second"])
        console.print(f"Throughput change from the first to the last size: {-drop:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
