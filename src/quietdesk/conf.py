"""Small typed readers for configuration from the environment.

Every setting Quietdesk reads comes from a ``QUIETDESK_*`` variable. A secret can
also be given as a file (``QUIETDESK_SECRET_KEY_FILE``), the way container
orchestrators mount secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "QUIETDESK_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return ``QUIETDESK_<name>``, or the content of the file named by ``..._FILE``."""
    file_name = os.environ.get(f"{PREFIX}{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{PREFIX}{name}_FILE points to {file_name!r}, which cannot be read: {exc}"
            ) from exc
    return os.environ.get(f"{PREFIX}{name}", default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(f"{PREFIX}{name}")
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name}={raw!r} is not a boolean: use true or false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"{PREFIX}{name}")
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{PREFIX}{name}={raw!r} is not a whole number.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(f"{PREFIX}{name}")
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
