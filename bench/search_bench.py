"""Search benchmark: a generated corpus, then query latencies, index size and ingest rate.

    PYTHONPATH=src .venv/bin/python bench/search_bench.py --messages 100000
    QUIETDESK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/search_bench_100k \\
        PYTHONPATH=src .venv/bin/python bench/search_bench.py --messages 100000

Without ``QUIETDESK_DATABASE_URL`` the database is ``var/bench/search-<N>/quietdesk.sqlite3``
(reused if it exists; ``--rebuild`` starts again). A PostgreSQL database must exist and
be empty the first time.

The corpus: ``--messages`` messages, ``--per-ticket`` (5) per ticket, over 8 years. Bodies
are French and English sentences drawn from a Zipf-distributed vocabulary (about 40,000
words: real words for the frequent ranks, pseudo-words for the long tail), with
customers' names, greetings, order numbers (``CMD-123456``) and invoice numbers. Rows are
written with ``bulk_create`` without indexing; the index is then built through the same
code as ``quietdesk search reindex`` (the ingest rate), and the live path (one message
indexed in its own transaction, as a service does) is timed separately.

Queries run through ``quietdesk.search.queries.search`` (parsing, scoping, the full-text
scan, counting, loading the tickets and building snippets): each is repeated ``--runs``
times after two warm-ups; p50 and p95 are printed in milliseconds.

The customer page (``/customers/<id>/``: the customer's tickets counted per year and the
newest fifty, their organisation's latest, and optionally a search among their
conversations) is requested the same way through Django's test client, signed in, so
that the time includes the middleware, the session, the view and the template. The
customer is the one with the most tickets.

``--prepare-only`` generates and indexes the corpus (showing progress) and times nothing.
"""
# ruff: noqa: E402 - Django is set up before the models; random is for data, not secrets.

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import math
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-ticket", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--rebuild", action="store_true", help="Regenerate the SQLite file.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument(
        "--prepare-only", action="store_true", help="Generate and index, time nothing."
    )
    return parser.parse_args()


ARGS = _parse_args() if __name__ == "__main__" else None
if ARGS is not None and not os.environ.get("QUIETDESK_DATABASE_URL"):
    data_dir = ROOT / "var" / "bench" / f"search-{ARGS.messages}"
    if ARGS.rebuild and data_dir.exists():
        for leftover in data_dir.glob("quietdesk.sqlite3*"):
            leftover.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["QUIETDESK_DATA_DIR"] = str(data_dir)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quietdesk.settings")
os.environ.setdefault("QUIETDESK_DEBUG", "false")
os.environ.setdefault("QUIETDESK_SECRET_KEY", "bench-" + "x" * 50)

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quietdesk import access
from quietdesk.accounts.models import EmailAddress, Organisation, Role, Team, User
from quietdesk.search.backends import backend
from quietdesk.search.indexing import index_message, index_tickets
from quietdesk.search.models import Document
from quietdesk.search.queries import search
from quietdesk.tickets.models import Message, MessageKind, Ticket, TicketCounter
from quietdesk.tickets.states import Status

console = Console(stderr=True)

# --- Vocabulary ------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


FRENCH = (
    "le la les de des du un une et est en que qui pour pas dans sur avec ce il elle nous vous "
    "ils au aux par plus mais ou son sa ses votre vos notre nos bien tout fait faire être avoir "
    "merci bonjour cordialement commande facture livraison colis paiement remboursement compte "
    "adresse problème question réponse demande délai retard erreur produit article client "
    "service équipe semaine mois année jour hier aujourd'hui demain depuis encore toujours "
    "déjà très trop peu aussi alors donc car comme quand comment pourquoi avant après "
    "pouvez pourriez voudrais souhaite besoin reçu envoyé trouvé changé payé annulé "
    "mot passe connexion site application téléphone courriel message pièce jointe capture "
    "écran lien page panier prix montant total taxe remise promotion abonnement contrat "
    "renouvellement résiliation garantie retour échange taille couleur stock disponible "
    "rupture transporteur suivi numéro référence devis tarif offre essai gratuit mise jour "
    "version navigateur ordinateur imprimante étiquette fichier export import rapport "
    "réunion appel rappel rendez-vous urgent important simple rapide lent bloqué cassé"
)
ENGLISH = (
    "the a an and is are to of in for on with that this it we you they our your not be have "
    "has was were will would can could please thanks hello regards order invoice delivery "
    "parcel payment refund account address problem question answer request delay error "
    "product item customer support team week month year day yesterday today tomorrow since "
    "still already very too also so because when how why before after need received sent "
    "found changed paid cancelled password login website app phone email attachment "
    "screenshot link page cart price amount total tax discount subscription contract renewal "
    "cancellation warranty return exchange size colour stock available shipping tracking "
    "number reference quote trial free update version browser computer printer label file "
    "report meeting call reminder appointment urgent important quick slow stuck broken"
)
FIRST_NAMES = words(
    "Marie Louis Jane Paul Amina Chen Sofia Lucas Emma Noah Léa Hugo Chloé Jules Inès "
    "Arthur Zoé Gabriel Olivia Liam Mia Ethan Sara Adam Nora Omar Yuki Kenji Priya Ravi Ana "
    "Diego Lena Jonas Elif Mehmet Ingrid Lars Fatou Moussa Aoife Cian Marta Pablo Irina "
    "Dmitri Hana"
)
LAST_NAMES = words(
    "Dubois Martin Cooper Petit Laurent Okafor Tanaka Garcia Müller Rossi Nguyen Kowalski "
    "Jensen Silva Bernard Moreau Fischer Schmidt Lefebvre Roux Fournier Girard Bonnet "
    "Dupont Lambert Fontaine Rousseau Vincent Faure André Mercier Blanc Guérin Boyer "
    "Garnier"
)
SYLLABLES = words(
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge gi go gu la le li lo "
    "lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti "
    "to tu va ve vi vo vu tra tre tri pro pre bri cla cle clo fla fle gra gre gro pla ple"
)
VOCABULARY_SIZE = 40_000
ZIPF_EXPONENT = 1.05
SENTENCE_POOL = 300_000
TEAMS = ("Support", "Billing", "Hosting", "Projects", "Onboarding")


def vocabulary(rng: random.Random) -> list[str]:
    """Real words first (the frequent ranks), then pronounceable pseudo-words."""
    words = list(dict.fromkeys(FRENCH.split() + ENGLISH.split()))
    rng.shuffle(words)
    seen = set(words)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def sentences(rng: random.Random, words: list[str]) -> list[str]:
    weights = [1 / (rank**ZIPF_EXPONENT) for rank in range(1, len(words) + 1)]
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    pool = []
    for _ in range(SENTENCE_POOL):
        length = rng.randint(6, 16)
        picked = [
            words[bisect.bisect_left(cumulative, rng.random() * total)] for _ in range(length)
        ]
        pool.append(" ".join(picked).capitalize() + rng.choice(".!?."))
    return pool


def body(rng: random.Random, pool: list[str], first: str, last: str) -> str:
    parts = [rng.choice(("Bonjour", "Hello", "Bonjour Madame", "Hi")) + f" {first},"]
    parts += [rng.choice(pool) for _ in range(rng.randint(3, 9))]
    if rng.random() < 0.3:
        parts.append(f"Commande CMD-{rng.randint(100_000, 999_999)}.")
    if rng.random() < 0.15:
        parts.append(f"Facture FA-{rng.randint(2017, 2026)}-{rng.randint(1, 99_999):05d}.")
    parts.append(f"{rng.choice(('Cordialement', 'Regards', 'Merci'))}, {first} {last}")
    return "\n".join(parts)


# --- Generation --------------------------------------------------------------------------------


def generate(messages: int, per_ticket: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    words = vocabulary(rng)
    pool = sentences(rng, words)
    tickets_total = max(1, messages // per_ticket)
    now = timezone.now()
    start = now - dt.timedelta(days=8 * 365)
    span = (now - start).total_seconds()

    with transaction.atomic():
        User.objects.create_user(
            "admin@bench.example", None, name="Admin", role=Role.ADMIN, is_superuser=True
        )
        teams = [Team.objects.create(name=name, slug=name.lower()) for name in TEAMS]
        agents = []
        for index in range(15):
            agent = User.objects.create_user(
                f"agent{index}@bench.example", None, name=f"Agent {index}", role=Role.AGENT
            )
            agent.teams.set([teams[index % len(teams)]])
            agents.append(agent)
        organisations = Organisation.objects.bulk_create(
            [
                Organisation(name=f"{rng.choice(LAST_NAMES)} {kind} {index}", shares_tickets=True)
                for index, kind in enumerate(
                    rng.choice(("SARL", "Ltd", "SAS", "GmbH"))
                    for _ in range(max(5, tickets_total // 200))
                )
            ]
        )
        customers = User.objects.bulk_create(
            [
                User(
                    email=f"client{index}@client.example",
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    role=Role.CUSTOMER,
                    password="!",  # noqa: S106 - an unusable password
                    organisation=rng.choice(organisations) if rng.random() < 0.85 else None,
                )
                for index in range(max(10, tickets_total // 10))
            ],
            batch_size=2000,
        )
        EmailAddress.objects.bulk_create(
            [EmailAddress(person=c, address=c.email, is_primary=True) for c in customers],
            batch_size=2000,
        )
    members = {
        team.pk: [a for i, a in enumerate(agents) if i % len(teams) == t]
        for t, team in enumerate(teams)
    }
    # Zipf over customers too: a few write very often.
    customer_weights = list(
        itertools.accumulate(1 / (rank**0.8) for rank in range(1, len(customers) + 1))
    )

    counter = TicketCounter.objects.get(pk=1)
    number = counter.value
    batch_tickets = 2000
    columns = (TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("tickets", total=tickets_total)
        times = sorted(
            start + dt.timedelta(seconds=rng.random() ** 0.7 * span) for _ in range(tickets_total)
        )
        for offset in range(0, tickets_total, batch_tickets):
            chunk = times[offset : offset + batch_tickets]
            tickets = []
            for created in chunk:
                number += 1
                customer = customers[
                    bisect.bisect_left(customer_weights, rng.random() * customer_weights[-1])
                ]
                age = (now - created).days
                status = Status.CLOSED if age > 40 else rng.choice(list(Status))
                team = rng.choice(teams)
                tickets.append(
                    Ticket(
                        number=number,
                        subject=" ".join(rng.choice(pool).split()[:6]).rstrip(".!?"),
                        status=status,
                        channel=rng.choice(("email", "email", "email", "portal", "phone", "chat")),
                        requester=customer,
                        organisation_id=customer.organisation_id,
                        team=team,
                        assignee=rng.choice(members[team.pk]) if rng.random() < 0.9 else None,
                        created_at=created,
                        updated_at=created,
                        last_message_at=created,
                    )
                )
            with transaction.atomic():
                Ticket.objects.bulk_create(tickets, batch_size=1000)
                rows = []
                for ticket in tickets:
                    first, last = ticket.requester.name.split(" ", 1)
                    moment = ticket.created_at
                    for index in range(per_ticket):
                        staff = index % 2 == 1
                        kind = MessageKind.REPLY
                        if staff and rng.random() < 0.2:
                            kind = MessageKind.NOTE
                        rows.append(
                            Message(
                                ticket=ticket,
                                kind=kind,
                                author=rng.choice(agents) if staff else ticket.requester,
                                body_text=body(rng, pool, first, last),
                                channel=ticket.channel if not staff else "web",
                                created_at=moment,
                            )
                        )
                        moment += dt.timedelta(hours=rng.randint(1, 72))
                Message.objects.bulk_create(rows, batch_size=2000)
            progress.advance(task, len(chunk))
    TicketCounter.objects.filter(pk=1).update(value=number)
    console.print(
        f"generated {tickets_total} tickets, {tickets_total * per_ticket} messages in "
        f"{time.perf_counter() - started:.0f} s"
    )


def build_index() -> dict[str, float]:
    ids = list(Ticket.objects.order_by("id").values_list("id", flat=True))
    started = time.perf_counter()
    columns = (TextColumn("index"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("tickets", total=len(ids))
        for offset in range(0, len(ids), 500):
            chunk = ids[offset : offset + 500]
            with transaction.atomic():
                index_tickets(chunk)
            progress.advance(task, len(chunk))
    backend().optimize()
    seconds = time.perf_counter() - started
    documents = Document.objects.count()
    return {"documents": documents, "seconds": seconds, "docs_per_second": documents / seconds}


def live_indexing_rate(samples: int = 500) -> float:
    """Messages per second re-indexed one by one, each in its own transaction."""
    messages = list(Message.objects.order_by("-id")[:samples])
    started = time.perf_counter()
    for message in messages:
        with transaction.atomic():
            Document.objects.filter(message=message).delete()  # forces a real write
            index_message(message)
    return len(messages) / (time.perf_counter() - started)


def analyze() -> None:
    """Statistics for the planner; on PostgreSQL also a vacuum, as autovacuum would do
    after a bulk load (each indexed document is inserted, then updated with its vector),
    so that index-only scans and the visibility map are as on a settled database."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def sizes() -> dict[str, float]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            total = int(cursor.fetchone()[0])
            cursor.execute(
                "SELECT pg_total_relation_size('search_document'), "
                "pg_relation_size('search_document_tsv')"
            )
            index, gin = (int(v) for v in cursor.fetchone())
        else:
            cursor.execute("PRAGMA page_count")
            pages = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA page_size")
            total = pages * int(cursor.fetchone()[0])
            index = backend().index_bytes()
            gin = 0
    return {
        "database_mb": total / 1e6,
        "index_mb": index / 1e6,
        "index_share": index / total,
        "gin_mb": gin / 1e6,
    }


# --- Queries --------------------------------------------------------------------------------------


def document_frequencies(sample: int) -> Counter[str]:
    from quietdesk.search.text import tokens

    counts: Counter[str] = Counter()
    bodies = Message.objects.order_by("?").values_list("body_text", flat=True)[:sample]
    for text in bodies:
        counts.update(set(tokens(text)))
    return counts


def pick_terms(rng: random.Random) -> dict[str, str]:
    """A rare, a medium (about 1 % of messages) and the most common word, measured."""
    sampled = min(20_000, Message.objects.count())
    frequencies = document_frequencies(sampled)
    by_share = sorted(
        ((n / sampled, w) for w, n in frequencies.items() if w.isalpha()), reverse=True
    )
    medium = [w for share, w in by_share if 0.007 <= share <= 0.014 and len(w) > 4]
    rare = [w for _share, w in by_share if frequencies[w] == 1 and len(w) > 6]
    return {
        "rare": rng.choice(rare) if rare else by_share[-1][1],
        "medium": rng.choice(medium) if medium else by_share[len(by_share) // 50][1],
        "common": by_share[0][1],
        "common_share": f"{by_share[0][0]:.0%}",
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def timed(actor: User, query: str, runs: int, **options: object) -> tuple[float, float, int, bool]:
    for _ in range(2):
        page = search(actor, query, **options)  # type: ignore[arg-type]
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        page = search(actor, query, **options)  # type: ignore[arg-type]
        durations.append((time.perf_counter() - started) * 1000)
    return percentile(durations, 0.5), percentile(durations, 0.95), page.count, page.count_is_exact


def timed_page(
    client: Client, url: str, runs: int, params: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """p50 and p95 of a page's full render (ms), and the queries one request runs."""
    for _ in range(2):
        assert client.get(url, params, secure=True).status_code == 200
    with CaptureQueriesContext(connection) as executed:
        client.get(url, params, secure=True)
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, params, secure=True)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return percentile(durations, 0.5), percentile(durations, 0.95), len(executed)


def customer_pages(
    runs: int, customer: User, agent: User, admin: User, medium: str, common: str
) -> list[dict[str, object]]:
    """The customer's page as the service team opens it, and with a search in it."""
    url = f"/customers/{customer.public_id}/"
    cases = [
        ("customer page, agent of one team", agent, None),
        ("customer page, admin (sees all)", admin, None),
        ("customer page + search (medium), agent", agent, {"q": medium}),
        ("customer page + search (common), agent", agent, {"q": common}),
    ]
    results = []
    for name, reader, params in cases:
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(reader)
        p50, p95, queries = timed_page(client, url, runs, params)
        tickets = access.visible_tickets(reader).filter(requester=customer).count()
        results.append(
            {
                "case": name,
                "query": url + (f"?q={params['q']}" if params else ""),
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "count": f"{tickets} tickets, {queries} queries",
            }
        )
    return results


def run_queries(runs: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    terms = pick_terms(rng)
    admin = User.objects.get(email="admin@bench.example")
    agent = User.objects.filter(role=Role.AGENT).order_by("id").first()
    assert agent is not None
    busy = (
        Ticket.objects.values("requester_id")
        .annotate(n=django.db.models.Count("id"))
        .order_by("-n")
        .first()
    )
    assert busy is not None
    busiest_customer = User.objects.get(pk=busy["requester_id"])
    order_number = (
        Message.objects.filter(body_text__contains="CMD-")
        .values_list("body_text", flat=True)
        .first()
        or "CMD-100000"
    )
    order = order_number[order_number.index("CMD-") : order_number.index("CMD-") + 10]
    rare, medium, common = terms["rare"], terms["medium"], terms["common"]
    cases = [
        ("rare term", admin, rare, {}),
        ("medium term", admin, medium, {}),
        (f"very common term ({terms['common_share']} of messages)", admin, common, {}),
        ("order number (phrase)", admin, order, {}),
        ("prefix (medium)", admin, medium[:4] + "*", {}),
        ("two words AND", admin, f"{medium} {common}", {}),
        ("common + status:open", admin, f"{common} status:open", {}),
        ("common + status:closed", admin, f"{common} status:closed", {}),
        ("common + team:billing", admin, f"{common} team:billing", {}),
        ("medium + team:billing", admin, f"{medium} team:billing", {}),
        ("common, agent of one team", agent, common, {}),
        ("customer history: from:<email>", admin, f"from:{busiest_customer.email}", {}),
        ("customer history + term", admin, f"{common} from:{busiest_customer.email}", {}),
        ("portal: customer searches common", busiest_customer, common, {}),
        ("common, relevance", admin, common, {"order": "relevance"}),
        ("medium, relevance", admin, medium, {"order": "relevance"}),
    ]
    results = []
    for name, actor, query, options in cases:
        p50, p95, count, exact = timed(actor, query, runs, **options)
        results.append(
            {
                "case": name,
                "query": query,
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "count": f"{count}" if exact else f"> {count}",
            }
        )
    return results + customer_pages(runs, busiest_customer, agent, admin, medium, common)


def main() -> None:
    assert ARGS is not None
    call_command("migrate", verbosity=0)
    if not Ticket.objects.exists():
        generate(ARGS.messages, ARGS.per_ticket, ARGS.seed)
        analyze()
    ingest: dict[str, float] = {}
    if not Document.objects.exists():
        ingest = build_index()
        analyze()
    if ingest:
        console.print(
            f"indexed {ingest['documents']:.0f} documents in {ingest['seconds']:.0f} s "
            f"({ingest['docs_per_second']:.0f} documents/s)"
        )
    if ARGS.prepare_only:
        return
    live = live_indexing_rate()
    figures = sizes()
    results = run_queries(ARGS.runs, ARGS.seed)
    table = Table(title=f"search, {connection.vendor}, {Message.objects.count():,} messages")
    for column in ("case", "query", "p50 ms", "p95 ms", "count"):
        table.add_column(column)
    for row in results:
        table.add_row(
            row["case"],
            str(row["query"])[:40],
            str(row["p50_ms"]),
            str(row["p95_ms"]),
            str(row["count"]),
        )
    Console().print(table)
    summary = {
        "vendor": connection.vendor,
        "messages": Message.objects.count(),
        "tickets": Ticket.objects.count(),
        "documents": Document.objects.count(),
        **{k: round(v, 3) for k, v in figures.items()},
        "bulk_index_docs_per_s": round(ingest.get("docs_per_second", 0), 0),
        "bulk_index_seconds": round(ingest.get("seconds", 0), 1),
        "live_index_messages_per_s": round(live, 0),
        "queries": results,
    }
    Console().print_json(json.dumps({k: v for k, v in summary.items() if k != "queries"}))
    if ARGS.json:
        ARGS.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
