"""The one reader of mail servers' passwords: a variable, or the file its ``_FILE`` names."""

from __future__ import annotations

import pytest

from quietdesk.mail import passwords
from quietdesk.mail.passwords import PasswordSource, PasswordUnavailable

VARIABLE = "QUIETDESK_SMTP_PASSWORD_SUPPORT"
SECRET = "relay-s3cret-never-shown"


@pytest.fixture(autouse=True)
def _unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.delenv(f"{VARIABLE}_FILE", raising=False)


def test_the_variable_wins_over_its_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "password"
    secret_file.write_text("from the file\n", encoding="utf-8")
    monkeypatch.setenv(f"{VARIABLE}_FILE", str(secret_file))
    assert passwords.read(VARIABLE) == "from the file"  # the final newline is not in it
    assert passwords.source(VARIABLE) is PasswordSource.FILE
    monkeypatch.setenv(VARIABLE, SECRET)
    assert passwords.read(VARIABLE) == SECRET
    assert passwords.source(VARIABLE) is PasswordSource.VARIABLE


def test_a_missing_password_names_the_variable(monkeypatch):
    assert passwords.source(VARIABLE) is PasswordSource.MISSING
    with pytest.raises(PasswordUnavailable, match=f"the environment variable {VARIABLE} is not"):
        passwords.read(VARIABLE)
    assert passwords.source("") is PasswordSource.NONE
    with pytest.raises(PasswordUnavailable, match="no environment variable is named"):
        passwords.read("")


def test_an_unreadable_file_is_named_without_quoting_its_contents(monkeypatch, tmp_path):
    secret_file = tmp_path / "password"
    secret_file.write_bytes(SECRET.encode() + b"\xff\xfe")  # not UTF-8
    monkeypatch.setenv(f"{VARIABLE}_FILE", str(secret_file))
    with pytest.raises(PasswordUnavailable) as refused:
        passwords.read(VARIABLE)
    assert str(refused.value) == (
        f"the file named by {VARIABLE}_FILE cannot be read (UnicodeDecodeError)"
    )
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    monkeypatch.setenv(f"{VARIABLE}_FILE", str(tmp_path / "absent"))
    with pytest.raises(PasswordUnavailable, match=r"cannot be read \(FileNotFoundError\)"):
        passwords.read(VARIABLE)
