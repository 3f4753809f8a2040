"""Mail servers' passwords, read from this process's environment when they are needed.

A mailbox never stores a password: it names an environment variable, and the password is
that variable's value, or the contents of the file named by ``<variable>_FILE`` (Docker
and systemd secrets). This is the one reader, for the IMAP poller and the SMTP sender
alike. Nothing here logs a password, and an error names the variable, never a value.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path


class PasswordSource(enum.StrEnum):
    """Where this process would find a password (never the value)."""

    VARIABLE = "variable"  # the variable itself is set
    FILE = "file"  # <name>_FILE is set: the password is read from that file
    MISSING = "missing"  # neither: nobody can sign in with it
    NONE = "none"  # no variable is named


class PasswordUnavailable(Exception):
    """The password cannot be read; the message names the variable, never a value.

    An administrator can fix it (set the variable, mount the file) without touching the
    mailbox, so whoever needed it should try again later.
    """


def source(variable: str) -> PasswordSource:
    """The rule of :func:`read`, without reading anything."""
    if not variable:
        return PasswordSource.NONE
    if variable in os.environ:
        return PasswordSource.VARIABLE
    if os.environ.get(f"{variable}_FILE"):
        return PasswordSource.FILE
    return PasswordSource.MISSING


def read(variable: str) -> str:
    """The password ``variable`` names, or :class:`PasswordUnavailable` saying why not."""
    if not variable:
        raise PasswordUnavailable("no environment variable is named for the password")
    if variable in os.environ:
        return os.environ[variable]
    path = os.environ.get(f"{variable}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeError) as exc:
            # Only the type: a decoding error would quote bytes of the secret.
            raise PasswordUnavailable(
                f"the file named by {variable}_FILE cannot be read ({type(exc).__name__})"
            ) from None
    raise PasswordUnavailable(f"the environment variable {variable} is not set")
