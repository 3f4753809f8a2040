import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
call_command("demo", verbosity=0)
connection.close()
with connection.cursor() as cursor:
    cursor.execute("DELETE FROM sqlite_stat1")
connection.close()  # a new connection loads the (now missing) statistics
from quietdesk.tickets.models import Ticket
list(Ticket.objects.filter(team_id=1).order_by("-id")[:5])
connection.close()
"""


def test_a_file_database_keeps_planner_statistics(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env.update({"PYTHONPATH": str(ROOT / "src"), "QUIETDESK_DATA_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "quietdesk.sqlite3") as db:
        analysed = {row[0] for row in db.execute("SELECT tbl FROM sqlite_stat1")}
    assert "tickets_ticket" in analysed, "PRAGMA optimize on close re-analyses what it used"


CONCURRENT_WRITERS = """
import django, os, threading
os.environ["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
call_command("migrate", verbosity=0)
from quietdesk.accounts.services import create_contact
from quietdesk.tickets.models import Ticket
from quietdesk.tickets.services import create_ticket
customer = create_contact(actor=None, email="c@example.com")
connection.close()
errors = []

def writer(index):
    try:
        for n in range(15):
            if n == 7:  # a failing change must release the lock for the others
                try:
                    with transaction.atomic():
                        create_ticket(actor=customer, subject="doomed", body="x", channel="api")
                        raise RuntimeError("rolled back")
                except RuntimeError:
                    pass
            create_ticket(actor=customer, subject=f"w{index}-{n}", body="x", channel="api")
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
numbers = list(Ticket.objects.values_list("number", flat=True))
print(len(numbers), len(set(numbers)), Ticket.objects.filter(subject="doomed").count(), errors)
"""


def test_concurrent_writers_queue_and_every_ticket_gets_its_own_number(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env.update({"PYTHONPATH": str(ROOT / "src"), "QUIETDESK_DATA_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-c", CONCURRENT_WRITERS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(maxsplit=3) == ["60", "60", "0", "[]"]
    assert (tmp_path / "quietdesk.sqlite3-writer.lock").exists()
