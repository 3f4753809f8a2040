"""People found by their own address (``from:alice@example.com``) without reading them all.

The search compares addresses lower-cased: ``accounts_emailaddress`` already has that
index (its case-insensitive unique constraint); this adds the same for ``User.email``.
Plain SQL, the same on SQLite and PostgreSQL; the model state does not change.
"""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sign_in_link"),
        ("search", "0002_full_text_index"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS search_user_email_lower ON accounts_user (lower(email))",
            "DROP INDEX IF EXISTS search_user_email_lower",
        ),
    ]
