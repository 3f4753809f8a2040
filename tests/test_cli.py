from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from quietdesk.accounts.models import ApiToken, Role, User
from quietdesk.tickets.models import Ticket
from quietdesk.tickets.states import Status
from tests.conftest import run_python

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_demo_data_covers_every_status_and_is_idempotent(capsys):
    call_command("demo")
    counts = (User.objects.count(), Ticket.objects.count())
    assert {t.status for t in Ticket.objects.all()} == set(Status.values)
    assert User.objects.filter(role=Role.AGENT).values("time_zone").distinct().count() >= 3
    assert User.objects.filter(role=Role.CUSTOMER).values("organisation").distinct().count() >= 3
    assert all(t.messages.exists() for t in Ticket.objects.all())
    call_command("demo")
    assert (User.objects.count(), Ticket.objects.count()) == counts
    assert "already present" in capsys.readouterr().out


def test_demo_logins_printed_by_make_run_exist():
    call_command("demo")
    makefile = (ROOT / "Makefile").read_text()
    for email in (
        "admin@quietdesk.example",
        "camille@quietdesk.example",
        "marie@atelier-boreal.example",
    ):
        assert email in makefile
        assert User.objects.get(email=email).check_password("quietdesk-demo")


def test_createadmin_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUIETDESK_ADMIN_PASSWORD", "a sturdy passphrase 42")
    call_command("createadmin", "Boss@Example.com", "--name", "Boss")
    admin = User.objects.get(email="boss@example.com")
    assert admin.role == Role.ADMIN
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("a sturdy passphrase 42")
    with pytest.raises(CommandError, match="Already in use"):
        call_command("createadmin", "boss@example.com")


def test_createadmin_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("QUIETDESK_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command("createadmin", "weak@example.com")
    assert not User.objects.filter(email="weak@example.com").exists()


def test_token_create_list_and_revoke(world, capsys):
    call_command("token", "create", world.agent.email, "--name", "laptop")
    secret = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=world.agent, name="laptop")
    call_command("token", "list", world.agent.email)
    listing = capsys.readouterr().out
    assert token.prefix in listing
    assert secret not in listing
    call_command("token", "revoke", world.agent.email, token.prefix)
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(CommandError, match="Nobody"):
        call_command("token", "create", "nobody@example.com")


def test_the_quietdesk_console_script_passes_django_commands_through(tmp_path):
    result = run_python(["-m", "quietdesk.cli", "help"], tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "demo", "createadmin", "token", "migrate"):
        assert command in result.stdout
