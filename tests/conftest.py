"""Shared fixtures. Services a test needs (PostgreSQL, Redis, chromium) are required in CI
(CI=true) and skipped with a message naming the service elsewhere."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from quietdesk import events
from quietdesk.accounts.models import User
from quietdesk.accounts.services import create_api_token
from quietdesk.schedule import services as schedule
from quietdesk.schedule.models import Calendar
from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent


def run_python(
    args: list[str], data_dir: Path, *, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run Python with ``args`` in a fresh interpreter: no QUIETDESK_* variable from this
    environment, data under ``data_dir``, and ``env`` on top."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    clean.update({"PYTHONPATH": str(ROOT / "src"), "QUIETDESK_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, *args],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=data_dir,
    )


def require_service(name: str, reason: str) -> None:
    """Fail in CI, skip elsewhere: a missing service never hides in a green CI run."""
    message = f"{name} is not available: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (required in CI)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache (inbox counts, sign-in attempt counters)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _sign_in_links_sent_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal sends sign-in links from a thread; tests read the outbox right after."""
    from quietdesk.web import portal

    monkeypatch.setattr(portal, "deliver_soon", lambda send, *args: send(*args))


@pytest.fixture(autouse=True)
def _media_and_tasks(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.AGENTS_SEE_ALL_TEAMS = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def captured_events() -> Iterator[list[events.Event]]:
    seen: list[events.Event] = []

    def handler(event: events.Event) -> None:
        seen.append(event)

    events.subscribe("*")(handler)
    yield seen
    events.unsubscribe("*", handler)


class World:
    """A small installation: two teams, agents, an admin, two organisations, customers."""

    def __init__(self) -> None:
        self.support = factories.TeamFactory(name="Support", slug="support")
        self.billing = factories.TeamFactory(name="Billing", slug="billing")
        self.admin = factories.AdminFactory()
        self.agent = factories.AgentFactory(teams=[self.support])
        self.other_agent = factories.AgentFactory(teams=[self.billing])
        self.acme = factories.OrganisationFactory(name="Acme", shares_tickets=True)
        self.globex = factories.OrganisationFactory(name="Globex", shares_tickets=False)
        self.customer = factories.CustomerFactory(organisation=self.acme)
        self.colleague = factories.CustomerFactory(organisation=self.acme)
        self.outsider = factories.CustomerFactory(organisation=self.globex)
        self.outsider_colleague = factories.CustomerFactory(organisation=self.globex)


@pytest.fixture
def world(db: Any) -> World:
    return World()


def api_client(person: User) -> Client:
    """A test client that authenticates with a fresh personal token of ``person``."""
    _token, secret = create_api_token(actor=None, user=person, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


PARIS = ZoneInfo("Europe/Paris")  # where the test office is


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


class Clockwork:
    """Sets what ``timezone.now()`` answers, for the services that read the clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = paris(2026, 11, 23, 9)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, *args: int) -> dt.datetime:
        self.now = paris(*args)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clockwork:
    return Clockwork(monkeypatch)


@pytest.fixture
def office(world) -> Calendar:
    """Support's hours: Monday to Friday 09:00–12:00 and 13:00–17:00 in Paris."""
    calendar = schedule.save_calendar(
        actor=world.admin,
        data=schedule.CalendarIn(
            name="Paris office",
            time_zone="Europe/Paris",
            openings=schedule.openings_from(
                [
                    (day, s, e, False)
                    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                    for s, e in (("09:00", "12:00"), ("13:00", "17:00"))
                ]
            ),
            holiday_country="FR",
        ),
    )
    schedule.set_team_calendar(actor=world.admin, team=world.support, calendar=calendar)
    world.support.refresh_from_db()
    return calendar
