"""Opaque public identifiers.

Every object reachable from a URL or the API is addressed by a random public id,
never by its database key, so that no object can be found by counting.
"""

import secrets

PUBLIC_ID_LENGTH = 16


def new_public_id() -> str:
    """Return 96 random bits as 16 URL-safe characters."""
    return secrets.token_urlsafe(12)
