"""An import killed with SIGKILL at random points, then run again: 0 lost, 0 duplicated."""

from __future__ import annotations

import json
import mailbox as stdlib_mailbox
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, run_python

CHECK = """
import django, json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "quietdesk.settings"
django.setup()
from collections import Counter
from quietdesk.mail.models import InboundMail
from quietdesk.tickets.models import Message
inbound = list(InboundMail.objects.values_list("sha256", "status", "public_id", "message_id"))
carried = Counter(
    m["inbound"] for m in Message.objects.values_list("channel_metadata", flat=True)
    if "inbound" in m
)
print(json.dumps({
    "stored": len(inbound),
    "distinct": len({row[0] for row in inbound}),
    "statuses": dict(Counter(row[1] for row in inbound)),
    "processed_ids": [row[2] for row in inbound if row[1] == "processed"],
    "carried": carried,
}))
"""


def corpus(count: int, rng: random.Random) -> list[bytes]:
    """Mails as a mail server would deliver them: new threads, replies, a few repeats."""
    mails: list[bytes] = []
    for index in range(count):
        sender = f"customer{rng.randint(1, 40)}@client{rng.randint(1, 5)}.example"
        headers = [
            f"From: Customer {index} <{sender}>",
            "To: support@quietdesk.example",
            f"Subject: Question {index}",
            f"Message-ID: <crash-{index}@client.example>",
        ]
        if index > 10 and rng.random() < 0.3:
            earlier = rng.randrange(index)
            headers.append(f"In-Reply-To: <crash-{earlier}@client.example>")
        body = ("Line of text about the problem. " * rng.randint(5, 300)).strip()
        if rng.random() < 0.2:
            attachment = os.urandom(rng.randint(0, 60_000)).hex()
            mail = (
                "\r\n".join(headers)
                + '\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
                + f"--b\r\nContent-Type: text/plain\r\n\r\n{body}\r\n"
                + "--b\r\nContent-Type: application/octet-stream\r\n"
                + 'Content-Disposition: attachment; filename="dump.hex"\r\n\r\n'
                + f"{attachment}\r\n--b--\r\n"
            )
        else:
            mail = "\r\n".join(headers) + f"\r\nContent-Type: text/plain\r\n\r\n{body}\r\n"
        mails.append(mail.encode())
    mails += [mails[i] for i in rng.sample(range(count), 15)]  # delivered twice
    return mails


def test_an_import_killed_at_random_points_stores_every_mail_exactly_once(tmp_path: Path):
    rng = random.Random(20261123)
    mails = corpus(310, rng)
    archive = stdlib_mailbox.mbox(str(tmp_path / "archive.mbox"))
    for raw in mails:
        archive.add(raw)
    archive.flush()
    migrated = run_python(["-m", "quietdesk.cli", "migrate", "-v0"], tmp_path, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env.update(PYTHONPATH=str(ROOT / "src"), QUIETDESK_DATA_DIR=str(tmp_path))
    command = [
        sys.executable,
        "-m",
        "quietdesk.cli",
        "mail",
        "import",
        str(tmp_path / "archive.mbox"),
        "--json",
    ]
    kills = 0
    for _attempt in range(5):
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(1.0, 3.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 3, "the import must really be interrupted"
    finished = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert finished.returncode == 0, finished.stderr
    counts = json.loads(finished.stdout)
    assert counts["received"] == len(mails)
    result = run_python(["-c", CHECK], tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    distinct = len(set(mails))
    assert state["stored"] == state["distinct"] == distinct  # nothing stored twice
    assert set(state["statuses"]) <= {"processed", "duplicate"}  # nothing left half-done
    assert state["statuses"].get("processed") == distinct  # every Message-ID is new here
    # Every processed mail is carried by exactly one ticket message.
    assert sorted(state["carried"]) == sorted(state["processed_ids"])
    assert set(state["carried"].values()) == {1}
