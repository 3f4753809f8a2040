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
