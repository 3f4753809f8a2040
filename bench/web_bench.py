"""Server-side render time of the agent's pages: the inbox and a 500-message ticket.

    .venv/bin/python bench/web_bench.py                      # 10,000 and 100,000 tickets
    .venv/bin/python bench/web_bench.py --sizes 100000 --requests 100

Uses the datasets of ``bench/api_bench.py`` (generated if missing), on a working copy.
Pages are rendered in-process through Django's full middleware stack (test client, no
network), signed in as the agent who sees the most tickets, so the figures are what the
server spends per page. For each size: the inbox's default view, "My teams", "All" and
"All" sorted by due time on page 20; then the page of a ticket given 500 messages. The
number of queries of each page is printed too: it must not grow with the data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

PAGES = {
    "inbox (default view)": "/inbox/",
    "inbox: my teams": "/inbox/?view=teams",
    "inbox: all": "/inbox/?view=all",
    "inbox: all, page 20": "/inbox/?view=all&page=20",
}
TARGETS = {"inbox": 150.0, "ticket": 300.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    return parser.parse_args()


def measure(requests: int, messages: int) -> dict[str, object]:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from quietdesk import access
    from quietdesk.accounts.models import Role, User
    from quietdesk.tickets import services
    from quietdesk.tickets.models import Ticket

    agents = User.objects.filter(role=Role.AGENT, is_active=True).annotate(n=Count("teams"))
    agent = max(agents, key=lambda a: access.visible_tickets(a).count())
    ticket = access.visible_tickets(agent).filter(status="open").order_by("-id").first()
    ticket = ticket or access.visible_tickets(agent).order_by("-id").first()
    assert ticket is not None
    have = ticket.messages.count()
    for index in range(max(0, messages - have)):
        author = ticket.requester if index % 2 else agent
        services.post_message(
            ticket=Ticket.objects.get(pk=ticket.pk),
            author=author,
            body=f"Message {index}: " + "words " * 40,
            kind="note" if index % 10 == 0 and author == agent else "reply",
            via="web",
        )
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(agent)
    count_messages = ticket.messages.count()
    pages = {
        **PAGES,
        f"ticket, {count_messages} messages (opens folded)": f"/tickets/{ticket.public_id}/",
        f"ticket, {count_messages} messages, whole thread": (
            f"/tickets/{ticket.public_id}/?whole=1"
        ),
    }
    results: dict[str, object] = {
        "tickets": Ticket.objects.count(),
        "visible_to_agent": access.visible_tickets(agent).count(),
    }
    rows = []
    for name, url in pages.items():
        for _ in range(5):  # warm-up
            assert client.get(url).status_code == 200
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):  # type: ignore[no-untyped-def]
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        rows.append(
            {
                "page": name,
                "queries": len(executed),
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(statistics.quantiles(timings, n=100)[94], 1),
                "kb": round(len(response.content) / 1024, 1),
            }
        )
    results["pages"] = rows
    return results


def main() -> int:
    args = parse_args()
    if args.one:
        print(json.dumps(measure(args.requests, args.messages)))
        return 0
    from rich.console import Console
    from rich.table import Table

    import api_bench

    console = Console()
    console.print(
        f"[bold]Web pages[/bold] on {platform.node()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        pristine = api_bench.dataset_path(size, rebuild=False, seed=1)
        api_bench.quietdesk("migrate", "-v0", env=api_bench.quietdesk_env(pristine), timeout=1800)
        database = api_bench.working_copy(pristine)
        env = api_bench.quietdesk_env(database)
        env["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
        with console.status(f"{size:,} tickets: rendering pages"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    "1",
                    "--requests",
                    str(args.requests),
                    "--messages",
                    str(args.messages),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                cwd=ROOT,
            )
        api_bench.remove_database(database)
        if done.returncode != 0:
            console.print(done.stderr[-3000:])
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        table = Table(
            title=f"{result['tickets']:,} tickets ({result['visible_to_agent']:,} visible "
            "to the agent)"
        )
        for column in ("page", "queries", "p50 ms", "p95 ms", "KB", "target p95", "met"):
            table.add_column(column, justify="right" if column != "page" else "left")
        for row in result["pages"]:
            target = TARGETS["ticket" if row["page"].startswith("ticket") else "inbox"]
            whole = "whole" in row["page"]  # for information; the target is the page as opened
            table.add_row(
                row["page"],
                str(row["queries"]),
                str(row["p50_ms"]),
                str(row["p95_ms"]),
                str(row["kb"]),
                "—" if whole else f"≤ {target:.0f}",
                "—" if whole else ("yes" if row["p95_ms"] <= target else "NO"),
            )
        console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
