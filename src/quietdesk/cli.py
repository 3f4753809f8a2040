"""The ``quietdesk`` command: Quietdesk's own commands plus every Django command.

quietdesk serve            serve the app over ASGI (uvicorn)
quietdesk migrate          create or upgrade the database
quietdesk demo             load demonstration data (safe to repeat)
quietdesk createadmin      add an administrator
quietdesk token create E   create a personal API token for E
quietdesk help             every command
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quietdesk.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["quietdesk", *args])


if __name__ == "__main__":
    main()
