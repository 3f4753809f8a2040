from tests.conftest import run_python

SCRIPT = """
import django, os, sqlite3
os.environ["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
django.setup()
from django.core.management import call_command
from django.db import connection

def analysed():
    with sqlite3.connect(connection.settings_dict["NAME"]) as db:
        return sorted({row[0] for row in db.execute("SELECT tbl FROM sqlite_stat1")})

call_command("migrate", verbosity=0)
connection.close()
print("tickets_ticket" in analysed())
call_command("demo", verbosity=0)
connection.close()
print("tickets_ticket" in analysed())
"""


def test_a_file_database_keeps_planner_statistics(tmp_path):
    result = run_python(["-c", SCRIPT], tmp_path)
    assert result.returncode == 0, result.stderr
    # Empty after migrating; analysed once the first request used the table with data.
    assert result.stdout.split("\n")[0] == "False"
    assert result.stdout.strip().split("\n")[-1] == "True"


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
    result = run_python(["-c", CONCURRENT_WRITERS], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(maxsplit=3) == ["60", "60", "0", "[]"]
    assert (tmp_path / "quietdesk.sqlite3-writer.lock").exists()


POOL = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
django.setup()
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
call_command("migrate", verbosity=0)
connection.close()
connection.ensure_connection(); first = connection.connection; connection.close()
connection.ensure_connection(); again = connection.connection
print("reused" if again is first else "new")
try:
    with transaction.atomic():
        connection.cursor().execute("INSERT INTO tickets_tag (name) VALUES ('x')")
        connection.cursor().execute("INSERT INTO tickets_tag (name) VALUES ('x')")
except IntegrityError:
    pass  # rolled back: the connection is clean and may be reused
connection.close()
connection.ensure_connection()
print("after-rollback:", "reused" if connection.connection is again else "new")
print("in-transaction:", connection.connection.in_transaction)
from quietdesk.tickets.models import Tag
print("tags:", Tag.objects.count())
try:
    connection.cursor().execute("SELEC 1")
except Exception:
    pass  # an operational error marks the connection as suspect
connection.close()
connection.ensure_connection()
print("after-error:", "reused" if connection.connection is again else "new")
"""


def test_clean_connections_are_reused_and_broken_ones_are_not(tmp_path):
    result = run_python(["-c", POOL], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:5] == [
        "reused",
        "after-rollback: reused",
        "in-transaction: False",
        "tags: 0",
        "after-error: new",
    ]


CHECKPOINTS = """
import django, os, time
os.environ["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
from quietdesk.db.sqlite3 import base
base.CHECKPOINT_INTERVAL = 0.05
call_command("migrate", verbosity=0)
from quietdesk.accounts.services import create_contact
from quietdesk.tickets.services import create_ticket
customer = create_contact(actor=None, email="c@example.com")
name = connection.settings_dict["NAME"]
size_before = os.path.getsize(name)
for n in range(30):
    create_ticket(actor=customer, subject=f"t{n}", body="x" * 2000, channel="api")
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_autocheckpoint")
    print(cursor.fetchone()[0])
deadline = time.monotonic() + 10
while time.monotonic() < deadline and os.path.getsize(name) == size_before:
    time.sleep(0.05)
print(os.path.getsize(name) > size_before)
"""


def test_committed_pages_reach_the_database_file_in_the_background(tmp_path):
    # Requests no longer checkpoint (only past a safety limit); a thread does it.
    result = run_python(["-c", CHECKPOINTS], tmp_path)
    assert result.returncode == 0, result.stderr
    limit, copied = result.stdout.split()
    assert int(limit) >= 10_000
    assert copied == "True"
