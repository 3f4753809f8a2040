import pytest
from django.core.exceptions import ImproperlyConfigured

from quietdesk.conf import env_bool, env_int, env_list, env_str
from tests.conftest import run_python


def load_settings(tmp_path, **env):
    """Import the settings module in a fresh interpreter with only ``env`` configured."""
    return run_python(
        [
            "-c",
            "import quietdesk.settings as s; print(s.DEBUG, s.DATABASES['default']"
            "['ENGINE'], s.DATABASES['default']['NAME'])",
        ],
        tmp_path,
        **env,
    )


def test_defaults_work_with_no_configuration(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    debug, engine, name = result.stdout.split()
    assert debug == "True"
    assert engine == "quietdesk.db.sqlite3"
    assert name == str(tmp_path / "quietdesk.sqlite3")


def test_production_refuses_the_default_secret_key(tmp_path):
    result = load_settings(tmp_path, QUIETDESK_DEBUG="false")
    assert result.returncode != 0
    assert "QUIETDESK_SECRET_KEY is not set" in result.stderr


def test_production_starts_with_a_secret_key_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("a-very-long-random-secret-value-for-the-test-only-1234567890\n")
    result = load_settings(
        tmp_path,
        QUIETDESK_DEBUG="false",
        QUIETDESK_SECRET_KEY_FILE=str(secret),
        QUIETDESK_DATABASE_URL="postgres://u@db.example:5432/helpdesk",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.db.backends.postgresql", "helpdesk"]


def test_sqlite_runs_in_wal_mode(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    options = connection.settings_dict["OPTIONS"]
    assert "PRAGMA journal_mode=WAL" in options["init_command"]
    assert options["transaction_mode"] == "IMMEDIATE"


def test_wal_mode_is_on_for_a_file_database(tmp_path):
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='quietdesk.settings'; "
        "django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    result = run_python(["-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


def test_env_helpers_read_and_reject(monkeypatch):
    monkeypatch.setenv("QUIETDESK_FLAG", "yes")
    monkeypatch.setenv("QUIETDESK_COUNT", "12")
    monkeypatch.setenv("QUIETDESK_HOSTS", "a.example, b.example,")
    assert env_bool("FLAG") is True
    assert env_int("COUNT", 1) == 12
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    assert env_str("MISSING", "fallback") == "fallback"
    monkeypatch.setenv("QUIETDESK_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env_bool("FLAG")
    monkeypatch.setenv("QUIETDESK_COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("COUNT", 1)
    monkeypatch.setenv("QUIETDESK_KEY_FILE", "/nonexistent/secret")
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str("KEY")
