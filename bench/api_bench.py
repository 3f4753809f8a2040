"""Latency and throughput of the REST API, served for real, on datasets of several sizes.

    .venv/bin/python bench/api_bench.py --sizes 10000,100000

For each size the generated SQLite database ``var/bench/tickets-<N>.sqlite3`` is
built once (``quietdesk migrate`` then ``bench/generate.py``) and reused after. Each
run works on a fresh copy of it, so that the tickets created by one run do not
change the next. The server is ``quietdesk serve`` with two uvicorn workers in
production settings; a few client threads send requests over keep-alive
connections, after a warm-up, until each phase's request or time budget is spent.
Results are printed and written as JSON (and a Markdown table) to ``bench/out/``.
"""
# ruff: noqa: E402 - the source tree is put on the path before importing from it.

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = ROOT / "src"
if str(SRC_DIR) not in sys.path:
    sys.path.insert(0, str(SRC_DIR))

# The cursor a client would hold after paging down to a given ticket: built with the
# API's own encoder so that deep pages can be reached without walking every page.
from quietdesk.api.pagination import encode_cursor

BENCH_DATA = ROOT / "var" / "bench"
OUT_DIR = ROOT / "bench" / "out"
GENERATOR = ROOT / "bench" / "generate.py"
VENV_BIN = Path(sys.executable).parent

# Wide enough for the results table when the output is a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 130)


# --- Results ---------------------------------------------------------------------------------


@dataclass
class Sample:
    label: str
    ms: float
    ok: bool


@dataclass
class Stats:
    name: str
    count: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None
    requests_per_s: float | None = None
    #: CPU time the server processes spent per request: unlike latency, it hardly
    #: depends on what else the machine is running.
    server_cpu_ms: float | None = None
    #: The 1-minute load average at the end of the phase (on 2 cores, 4+ means crowded).
    load_average: float | None = None

    @classmethod
    def of(cls, name: str, samples: list[Sample], seconds: float | None = None) -> Stats:
        times = sorted(s.ms for s in samples if s.ok)
        errors = sum(1 for s in samples if not s.ok)
        if not times:
            return cls(name, 0, errors, None, None, None, None, None)
        cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else []
        p50, p95, p99 = (cuts[49], cuts[94], cuts[98]) if cuts else (times[0],) * 3
        return cls(
            name=name,
            count=len(times),
            errors=errors,
            p50_ms=round(p50, 2),
            p95_ms=round(p95, 2),
            p99_ms=round(p99, 2),
            mean_ms=round(statistics.fmean(times), 2),
            max_ms=round(times[-1], 2),
            requests_per_s=round(len(times) / seconds, 1) if seconds else None,
        )


@dataclass
class SizeResult:
    size: int
    dataset: dict[str, Any]
    operations: list[Stats] = field(default_factory=list)
    error_examples: list[str] = field(default_factory=list)

    def p95(self, name: str) -> float | None:
        return next((op.p95_ms for op in self.operations if op.name == name), None)


# --- The dataset -----------------------------------------------------------------------------


def quietdesk_env(database: Path) -> dict[str, str]:
    """Production settings on ``database``; other QUIETDESK_* variables are not inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env.update(
        PYTHONPATH=str(SRC_DIR),
        QUIETDESK_DEBUG="false",
        QUIETDESK_SECRET_KEY=secrets.token_urlsafe(50),
        QUIETDESK_SSL_REDIRECT="false",
        QUIETDESK_ALLOWED_HOSTS="127.0.0.1",
        QUIETDESK_DATABASE_URL=f"sqlite:///{database}",
        QUIETDESK_DATA_DIR=str(BENCH_DATA / "data"),
        QUIETDESK_LOG_LEVEL="WARNING",
    )
    return env


def quietdesk(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    """Run the ``quietdesk`` command; return its standard output."""
    done = subprocess.run(
        [str(VENV_BIN / "quietdesk"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"quietdesk {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def dataset_path(size: int, *, rebuild: bool, seed: int) -> Path:
    """The pristine database for ``size`` tickets, generated if missing (or asked to)."""
    path = BENCH_DATA / f"tickets-{size}.sqlite3"
    if path.exists() and not rebuild:
        console.print(f"Reusing {path.relative_to(ROOT)}")
        return path
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"tickets-{size}.partial.sqlite3")
    remove_database(partial)
    console.print(f"[bold]Generating {size:,} tickets[/bold] into {path.relative_to(ROOT)}")
    env = quietdesk_env(partial)
    try:
        quietdesk("migrate", "--noinput", "-v", "0", env=env)
        subprocess.run(
            [sys.executable, str(GENERATOR), "--tickets", str(size), "--seed", str(seed)],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=1800,
        )
        with contextlib.closing(sqlite3.connect(partial)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        remove_database(path)
        partial.rename(path)
    finally:
        remove_database(partial)
    return path


def working_copy(pristine: Path) -> Path:
    copy = pristine.with_name(pristine.stem + ".run.sqlite3")
    remove_database(copy)
    shutil.copyfile(pristine, copy)
    return copy


@dataclass(frozen=True)
class Population:
    """What the requests pick from: tickets, their statuses, contacts, people to act as."""

    ticket_ids: list[int]
    public_ids: list[str]
    ids_by_status: dict[str, list[int]]
    contact_emails: list[str]
    contact_ids: list[str]
    admin_email: str
    agent_email: str | None
    messages: int

    @classmethod
    def load(cls, database: Path) -> Population:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            tickets = db.execute("SELECT id, public_id, status FROM tickets_ticket").fetchall()
            contacts = db.execute(
                "SELECT email, public_id FROM accounts_user WHERE role = 'customer'"
            ).fetchall()
            admin = db.execute(
                "SELECT email FROM accounts_user WHERE role = 'admin' AND is_active "
                "ORDER BY id LIMIT 1"
            ).fetchone()
            # An agent limited to their teams: the scoped list every agent sees.
            agent = db.execute(
                "SELECT email FROM accounts_user WHERE role = 'agent' AND is_active "
                "AND NOT sees_all_teams ORDER BY id LIMIT 1"
            ).fetchone()
            (messages,) = db.execute("SELECT count(*) FROM tickets_message").fetchone()
        if admin is None:
            raise RuntimeError(f"{database} has no administrator; regenerate it.")
        by_status: dict[str, list[int]] = {}
        for pk, _public_id, status in tickets:
            by_status.setdefault(status, []).append(pk)
        return cls(
            ticket_ids=[t[0] for t in tickets],
            public_ids=[t[1] for t in tickets],
            ids_by_status=by_status,
            contact_emails=[c[0] for c in contacts],
            contact_ids=[c[1] for c in contacts],
            admin_email=admin[0],
            agent_email=agent[0] if agent else None,
            messages=messages,
        )


# --- Requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    label: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    json: dict[str, Any] | None = None
    expect: int = 200


type MakeCall = Callable[[random.Random], Call]

PHASES = ("list", "read", "list-agent", "create")

#: Status filters as agents use them: one status, or everything still active.
STATUS_FILTERS = (
    ("new",),
    ("open",),
    ("pending",),
    ("on_hold",),
    ("solved",),
    ("closed",),
    ("new", "open", "pending", "on_hold"),
)
SAMPLE_TEXT = (
    "the invoice form page export login password site mail order payment does not work "
    "since yesterday please could you check again when we try to send it thanks"
)
WORDS = SAMPLE_TEXT.split()


def list_calls(population: Population) -> MakeCall:
    """First pages (40%), pages deep in the list (30%), status filters (30%)."""
    ids = population.ticket_ids

    def make(rng: random.Random) -> Call:
        params = [("limit", "25")]
        roll = rng.random()
        if roll < 0.4:
            return Call("list: first page", "GET", "/api/v1/tickets", tuple(params))
        if roll < 0.7:
            pk = rng.choice(ids)
            params.append(("cursor", encode_cursor(pk, pk)))
            return Call("list: deep page", "GET", "/api/v1/tickets", tuple(params))
        statuses = rng.choice(STATUS_FILTERS)
        params += [("status", s) for s in statuses]
        matching = population.ids_by_status.get(rng.choice(statuses), [])
        if matching and rng.random() < 0.5:
            # A later page of the filtered list: its cursor sits on a ticket of that status.
            pk = rng.choice(matching)
            params.append(("cursor", encode_cursor(pk, pk)))
        return Call("list: by status", "GET", "/api/v1/tickets", tuple(params))

    return make


def read_calls(population: Population) -> MakeCall:
    def make(rng: random.Random) -> Call:
        return Call("read", "GET", f"/api/v1/tickets/{rng.choice(population.public_ids)}")

    return make


def text(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)


def create_calls(population: Population) -> MakeCall:
    """New tickets for known contacts (by address or id) and for new addresses."""

    def make(rng: random.Random) -> Call:
        size = int(min(max(rng.lognormvariate(math.log(550), 0.8), 180), 20_000))
        payload: dict[str, Any] = {
            "subject": text(rng, rng.randint(20, 70)).capitalize(),
            "body": text(rng, size),
        }
        roll = rng.random()
        if roll < 0.6:
            payload["requester_email"] = rng.choice(population.contact_emails)
        elif roll < 0.8:
            payload["requester"] = rng.choice(population.contact_ids)
        else:
            payload["requester_email"] = f"new-{rng.getrandbits(64):x}@bench.example"
        return Call("create", "POST", "/api/v1/tickets", json=payload, expect=201)

    return make


# --- Load ------------------------------------------------------------------------------------


class Budget:
    """Hands out requests until the count or the time is used up, or it is cancelled."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.deadline = time.monotonic() + seconds
        self.cancelled = False
        self.handed_out = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """The number of the next request (0, 1, …), or None when the budget is spent."""
        with self._lock:
            if self.cancelled or self.left <= 0 or time.monotonic() >= self.deadline:
                return None
            self.left -= 1
            self.handed_out += 1
            return self.handed_out - 1


def drive(
    base_url: str,
    token: str,
    make_call: MakeCall,
    *,
    threads: int,
    requests: int,
    seconds: float,
    seed: int,
    errors: list[str],
    rate: float = 0,
) -> tuple[list[Sample], float]:
    """Send calls from ``threads`` clients until the budget runs out; return samples, wall time.

    With ``rate`` (requests per second, all threads together) request *n* is due at
    ``start + n / rate`` and its latency counts from that moment, so a slow answer that
    delays the next requests is charged to them too (no coordinated omission). Without it,
    each thread sends its next request as soon as the previous one is answered.
    """
    budget = Budget(requests, seconds)
    origin = time.perf_counter()
    samples: list[Sample] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        mine: list[Sample] = []
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            while (number := budget.take()) is not None:
                call = make_call(rng)
                if rate > 0:
                    due = origin + number / rate
                    time.sleep(max(0.0, due - time.perf_counter()))
                    started = due
                else:
                    started = time.perf_counter()
                try:
                    response = http.request(
                        call.method, call.path, params=call.params, json=call.json
                    )
                    ok = response.status_code == call.expect
                    problem = "" if ok else f"{response.status_code} {response.text[:300]}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{type(exc).__name__}: {exc}"
                mine.append(Sample(call.label, (time.perf_counter() - started) * 1000, ok))
                if problem and len(errors) < 5:
                    errors.append(f"{call.method} {call.path}: {problem}")
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except BaseException:
        budget.cancelled = True
        raise
    return samples, time.perf_counter() - started


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU used so far by the server and its worker processes."""
        tick = os.sysconf("SC_CLK_TCK")
        total, pending = 0.0, [self.pid]
        while pending:
            pid = pending.pop()
            with contextlib.suppress(OSError, ValueError):
                # Fields after the command name: utime and stime are the 12th and 13th.
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pending += [int(c) for c in (task / "children").read_text().split()]
        return total


@contextlib.contextmanager
def server(env: dict[str, str], *, workers: int, log: Path) -> Iterator[Server]:
    """``quietdesk serve`` in its own process group, stopped however the block ends."""
    port = free_port()
    command = [
        str(VENV_BIN / "quietdesk"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        *(["--no-worker"] if os.environ.get("BENCH_NO_WORKER") else []),
    ]
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_healthy(base_url, process, log)
            yield Server(base_url, process.pid)
        finally:
            stop(process)


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"The server did not answer /healthz within 60 s:\n{log.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (uvicorn and its workers), SIGKILL if stuck."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# --- One size --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    sizes: list[int]
    threads: int
    workers: int
    warmup: int
    list_requests: int
    read_requests: int
    create_requests: int
    seconds: float
    seed: int
    rebuild: bool
    phases: list[str]
    rate: float = 0


def bench_size(size: int, plan: Plan) -> SizeResult:
    pristine = dataset_path(size, rebuild=plan.rebuild, seed=plan.seed)
    # A dataset made by older code gets the newer migrations once (no-op when current).
    quietdesk("migrate", "-v0", env=quietdesk_env(pristine), timeout=1800)
    database = working_copy(pristine)
    population = Population.load(database)
    result = SizeResult(
        size=size,
        dataset={
            "tickets": len(population.ticket_ids),
            "messages": population.messages,
            "database_mb": round(pristine.stat().st_size / 1e6, 1),
            "path": str(pristine.relative_to(ROOT)),
        },
    )
    env = quietdesk_env(database)
    admin_token = quietdesk("token", "create", population.admin_email, env=env).strip()
    agent_token = None
    if population.agent_email:
        agent_token = quietdesk("token", "create", population.agent_email, env=env).strip()

    available: dict[str, tuple[str, str | None, MakeCall, int]] = {
        "list": ("list", admin_token, list_calls(population), plan.list_requests),
        "read": ("read", admin_token, read_calls(population), plan.read_requests),
        "list-agent": ("list (agent)", agent_token, list_calls(population), plan.list_requests),
        "create": ("create", admin_token, create_calls(population), plan.create_requests),
    }
    # Creating last: the reads see the dataset as generated.
    phases = [available[p] for p in PHASES if p in plan.phases]

    log = BENCH_DATA / f"server-{size}.log"
    with server(env, workers=plan.workers, log=log) as running:
        # As a live installation: new tickets match an SLA policy and start two clocks.
        httpx.post(
            f"{running.base_url}/api/v1/sla/policies",
            json={"name": "Standard", "first_response_minutes": 240, "resolution_minutes": 2880},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=30,
        ).raise_for_status()
        for number, (name, token, make_call, requests) in enumerate(phases):
            if token is None:
                console.print(f"  {size:,} tickets: {name} skipped (no agent in the dataset)")
                continue
            console.print(f"  {size:,} tickets: {name} ...")
            for warmup in (True, False):  # only the second pass is kept
                cpu_before = running.cpu_seconds()
                samples, seconds = drive(
                    running.base_url,
                    token,
                    make_call,
                    threads=plan.threads,
                    requests=plan.warmup if warmup else requests,
                    seconds=plan.seconds,
                    seed=plan.seed * 100 + number * 2 + warmup,
                    errors=result.error_examples,
                    rate=plan.rate,
                )
            stats = Stats.of(name, samples, seconds)
            if stats.count:
                cpu = running.cpu_seconds() - cpu_before
                stats.server_cpu_ms = round(cpu * 1000 / (stats.count + stats.errors), 2)
            stats.load_average = round(os.getloadavg()[0], 2)
            result.operations.append(stats)
            labels = sorted({s.label for s in samples} - {name})
            if len(labels) > 1:
                for label in labels:
                    part = [s for s in samples if s.label == label]
                    result.operations.append(Stats.of(f"  {label}", part))
    return result


# --- Reporting -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        memory_gb = round(int(meminfo[0].split()[1]) / 1024 / 1024, 1)
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


COLUMNS = (
    "operation",
    "count",
    "errors",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "req/s",
    "server CPU ms/req",
    "load",
)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def row(op: Stats) -> list[str]:
    return [
        op.name,
        str(op.count),
        str(op.errors),
        ms(op.p50_ms),
        ms(op.p95_ms),
        ms(op.p99_ms),
        "" if op.requests_per_s is None else f"{op.requests_per_s:.0f}",
        "" if op.server_cpu_ms is None else f"{op.server_cpu_ms:.1f}",
        "" if op.load_average is None else f"{op.load_average:.1f}",
    ]


def print_result(result: SizeResult) -> None:
    data = result.dataset
    table = Table(
        title=f"{data['tickets']:,} tickets, {data['messages']:,} messages, "
        f"{data['database_mb']:,} MB",
    )
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "operation" else "right")
    for op in result.operations:
        table.add_row(*row(op))
    console.print(table)
    for example in result.error_examples:
        console.print(f"[red]error:[/red] {example}")


@dataclass
class Target:
    description: str
    value: float
    limit: float
    met: bool


def targets(results: list[SizeResult]) -> list[Target]:
    """The issue's targets, read at the largest size against the smallest."""
    if not results:
        return []
    small, large = min(results, key=lambda r: r.size), max(results, key=lambda r: r.size)
    found: list[Target] = []
    for name in ("list", "create"):
        p95 = large.p95(name)
        if p95 is not None:
            found.append(Target(f"{name} p95 at {large.size:,} ≤ 50 ms", p95, 50, p95 <= 50))
    small_p95, large_p95 = small.p95("list"), large.p95("list")
    if small is not large and small_p95 and large_p95:
        ratio = round(large_p95 / small_p95, 2)
        found.append(
            Target(
                f"list p95 at {large.size:,} ≤ 1.5 x list p95 at {small.size:,}",
                ratio,
                1.5,
                ratio <= 1.5,
            )
        )
    return found


def markdown(results: list[SizeResult], goals: list[Target]) -> str:
    lines = [
        f"- {r.size:,} tickets: {r.dataset['messages']:,} messages, {r.dataset['database_mb']} MB"
        for r in results
    ]
    lines += [
        "",
        "| tickets | " + " | ".join(COLUMNS) + " |",
        "| ---: | --- | " + " | ".join("---:" for _ in COLUMNS[1:]) + " |",
    ]
    for result in results:
        for op in result.operations:
            cells = row(op)
            cells[0] = cells[0].strip()
            lines.append(f"| {result.size:,} | " + " | ".join(cells) + " |")
    lines += ["", "| target | measured | met |", "| --- | ---: | --- |"]
    lines += [f"| {t.description} | {t.value} | {'yes' if t.met else 'no'} |" for t in goals]
    return "\n".join(lines) + "\n"


def write_outputs(plan: Plan, results: list[SizeResult], goals: list[Target]) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT_DIR / f"api-{stamp}.json"
    document = {
        "benchmark": "api",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "plan": asdict(plan),
        "results": [asdict(r) for r in results],
        "targets": [asdict(t) for t in goals],
    }
    path.write_text(json.dumps(document, indent=2))
    path.with_suffix(".md").write_text(markdown(results, goals))
    return path


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="ticket counts, comma-separated")
    parser.add_argument("--threads", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=int, default=60, help="requests before each phase")
    parser.add_argument("--list-requests", type=int, default=2000)
    parser.add_argument("--read-requests", type=int, default=2000)
    parser.add_argument("--create-requests", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60, help="time limit of each phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="open-loop load: requests per second in all (default: as fast as answered)",
    )
    parser.add_argument("--rebuild", action="store_true", help="regenerate the databases")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"which phases to run, comma-separated (default: {','.join(PHASES)})",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs at least one positive size")
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or set(phases) - set(PHASES):
        parser.error(f"--phases takes some of: {', '.join(PHASES)}")
    return Plan(
        sizes=sizes,
        threads=args.threads,
        workers=args.workers,
        warmup=args.warmup,
        list_requests=args.list_requests,
        read_requests=args.read_requests,
        create_requests=args.create_requests,
        seconds=args.seconds,
        seed=args.seed,
        rebuild=args.rebuild,
        phases=phases,
        rate=args.rate,
    )


def main(argv: list[str] | None = None) -> int:
    plan = parse_args(argv)
    # A plain `kill` stops the benchmark the way Ctrl-C does: servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    results: list[SizeResult] = []
    try:
        for size in plan.sizes:
            result = bench_size(size, plan)
            results.append(result)
            print_result(result)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted; servers stopped.[/yellow]")
        return 130
    goals = targets(results)
    for goal in goals:
        mark = "[green]met[/green]" if goal.met else "[red]NOT met[/red]"
        console.print(f"{goal.description}: {goal.value} → {mark}")
    path = write_outputs(plan, results, goals)
    console.print(f"Results written to {path.relative_to(ROOT)} (and .md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
